//! `wantloop eval recommender` and `wantloop train recommender` as a user runs them.

use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_wantloop");

fn wantloop(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).env("WANTLOOP_LOG", "warn").output().expect("run wantloop")
}

/// Two taste groups of 30 users over 12 items each; one item of every user is in test.
fn write_split(dir: &std::path::Path) -> (String, String) {
    let (mut train, mut test) = (String::new(), String::new());
    for u in 0..60 {
        let group = if u < 30 { "a" } else { "b" };
        let items: Vec<usize> = (0..12).filter(|i| (i + u) % 3 != 0).collect();
        for (n, i) in items.iter().enumerate() {
            let line = format!("u{u}\t{group}{i}\t5\t0\n");
            if n == u % 5 { test.push_str(&line) } else { train.push_str(&line) }
        }
    }
    let (tr, te) = (dir.join("train.tsv"), dir.join("test.tsv"));
    std::fs::write(&tr, train).unwrap();
    std::fs::write(&te, test).unwrap();
    (tr.display().to_string(), te.display().to_string())
}

#[test]
fn eval_prints_ranking_metrics_and_beats_popularity() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = write_split(dir.path());
    let run = |model: &str| -> Value {
        // A generous budget: what is tried must not depend on how busy the machine is.
        let out = wantloop(&[
            "eval",
            "recommender",
            "--train",
            &train,
            "--test",
            &test,
            "--model",
            model,
            "--budget-seconds",
            "60",
            "--json",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let auto = run("auto");
    for key in ["precision@10", "recall@10", "ndcg@10", "users", "items", "fit_seconds", "tune_seconds"] {
        assert!(auto[key].is_number(), "missing {key}: {auto}");
    }
    assert_eq!(auto["users"], 60);
    // auto compared every family on validation and kept the best there.
    let trials = auto["selection"]["trials"].as_array().expect("the trials are reported");
    let families: std::collections::BTreeSet<&str> =
        trials.iter().map(|t| t["params"]["model"].as_str().unwrap()).collect();
    for family in ["popularity", "itemknn", "rp3beta", "ease", "als", "hybrid"] {
        assert!(families.contains(family), "{family} was not tried: {families:?}");
    }
    // The choice is the finalist with the best mean over the validation splits.
    let mean = |t: &Value, m: usize| {
        let extra: Vec<f64> =
            t["extra_splits"].as_array().map_or(vec![], |a| a.iter().map(|v| v.as_f64().unwrap()).collect());
        (t["validation_ndcg"].as_f64().unwrap() + extra[..m].iter().sum::<f64>()) / (1 + m) as f64
    };
    let chosen = trials.iter().find(|t| t["params"] == auto["params"]).expect("the choice is a trial");
    let m = chosen["extra_splits"].as_array().map_or(0, Vec::len);
    for t in trials.iter().filter(|t| t["extra_splits"].as_array().map_or(0, Vec::len) >= m) {
        assert!(mean(chosen, m) >= mean(t, m), "{t} beat the choice {auto}");
    }
    assert!(auto["selection"]["reason"].as_str().unwrap().starts_with(auto["model"].as_str().unwrap()));
    let popularity = run("popularity");
    assert!(
        auto["ndcg@10"].as_f64().unwrap() > popularity["ndcg@10"].as_f64().unwrap() + 0.1,
        "auto {auto} vs popularity {popularity}"
    );
    let bad = dir.path().join("bad.tsv");
    std::fs::write(&bad, "u1\ti1\nonly-one-column\n").unwrap();
    let out = wantloop(&["eval", "recommender", "--train", bad.to_str().unwrap(), "--test", &test]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.tsv:2"));
}

#[test]
fn train_from_a_file_registers_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = write_split(dir.path());
    let data = dir.path().join("data").display().to_string();
    let out = wantloop(&["train", "recommender", "--train", &train, "--activate", "--data-dir", &data]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("recommender v1"));
    let listed: Value = serde_json::from_slice(
        &wantloop(&["models", "list", "--kind", "recommender", "--json", "--data-dir", &data]).stdout,
    )
    .unwrap();
    assert_eq!((listed[0]["active"].as_bool(), listed[0]["params"]["users"].as_i64()), (Some(true), Some(60)));
    let out = wantloop(&["train", "recommender", "--from-store", "--data-dir", &data]);
    assert!(!out.status.success(), "an empty store has nothing to train on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interaction_weights_choose_what_the_recommender_learns_from() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = wantloop_store::SqlStore::connect(&format!("sqlite://{}/wantloop.db?mode=rwc", {
        std::fs::create_dir_all(&data).unwrap();
        data.display()
    }))
    .await
    .unwrap();
    use wantloop_store::Store;
    let mut offers = Vec::new();
    for i in 0..6 {
        let o = wantloop_core::OfferInput {
            provider: format!("p{i}"),
            text: format!("offer {i}"),
            category: "books".into(),
            price: 100,
            ..Default::default()
        };
        offers.push(store.create_offer(&o.parse().unwrap(), None).await.unwrap().done().unwrap().id);
    }
    let mut batch = Vec::new();
    for u in 0..8 {
        for (n, o) in offers.iter().enumerate() {
            if (n + u) % 3 != 0 {
                let i = wantloop_core::InteractionInput {
                    user: format!("u{u}"),
                    offer_id: *o,
                    kind: "click".into(),
                    value: None,
                };
                batch.push(i.parse("").unwrap());
            }
        }
    }
    store.record_interactions(&batch, None).await.unwrap();
    store.close().await;
    let d = data.to_str().unwrap();
    let out = wantloop(&["train", "recommender", "--from-store", "--interaction-weights", "click=0", "--data-dir", d]);
    assert!(!out.status.success(), "with clicks weighted 0 there is nothing to learn from");
    assert!(String::from_utf8_lossy(&out.stderr).contains("only 0 distinct interactions"));
    let out = wantloop(&["train", "recommender", "--from-store", "--data-dir", d]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("recommender v1"));
}
