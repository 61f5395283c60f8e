//! `wantloop train|eval classifier` and `wantloop models` as a user runs them.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_wantloop");

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ml/tests/fixtures").join(name).display().to_string()
}

fn wantloop(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).env("WANTLOOP_LOG", "warn").output().expect("run wantloop")
}

#[test]
fn train_register_activate_and_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let model = dir.path().join("model.bin").display().to_string();
    let train = fixture("demands_train.tsv");
    let test = fixture("demands_test.tsv");
    let out = wantloop(&["train", "classifier", "--train", &train, "--out", &model, "--activate", "--data-dir", &data]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("6 labels") && summary.contains("classifier v1"), "{summary}");
    // The examples are kept in the store (duplicates once), and the registered
    // model leaves out the store's held-out tenth.
    assert!(summary.contains("169 new examples kept in the store"), "{summary}");
    let listed: Value =
        serde_json::from_slice(&wantloop(&["models", "list", "--json", "--data-dir", &data]).stdout).unwrap();
    assert_eq!(listed[0]["active"], true);
    let trained = listed[0]["params"]["examples"].as_u64().unwrap();
    assert!((140..180).contains(&trained), "{trained}");
    // Training the same file again keeps nothing new; without the registry
    // every example is trained on.
    let again = wantloop(&["train", "classifier", "--train", &train, "--data-dir", &data]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("; 0 new examples kept"));
    let unregistered = wantloop(&["train", "classifier", "--train", &train, "--no-register"]);
    assert!(String::from_utf8_lossy(&unregistered.stdout).contains("180 examples, 6 labels"));

    let eval = wantloop(&["eval", "classifier", "--model", &model, "--test", &test, "--json"]);
    assert!(eval.status.success(), "{}", String::from_utf8_lossy(&eval.stderr));
    let m: Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert!(m["accuracy"].as_f64().unwrap() > 0.85, "{m}");
    for key in ["macro_f1", "per_label", "confusion", "examples", "predictions_per_second"] {
        assert!(!m[key].is_null(), "missing {key}: {m}");
    }
    assert_eq!(m["examples"], 60);
    assert_eq!(m["per_label"]["bicycles"]["support"], 10);

    // The registry copy predicts exactly like the file.
    let by_id = wantloop(&["eval", "classifier", "--model-id", "1", "--test", &test, "--json", "--data-dir", &data]);
    let r: Value = serde_json::from_slice(&by_id.stdout).unwrap();
    assert_eq!(r["confusion"], m["confusion"]);

    let combined = wantloop(&[
        "eval",
        "classifier",
        "--train",
        &train,
        "--dev",
        &test,
        "--test",
        &test,
        "--json",
        "--epochs",
        "5",
    ]);
    let c: Value = serde_json::from_slice(&combined.stdout).unwrap();
    assert!(c["train_seconds"].as_f64().unwrap() > 0.0 && c["params"]["epochs"] == 5, "{c}");
}

#[test]
fn bad_training_files_fail_with_the_line_at_fault() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    let cases = [
        (write("empty.tsv", ""), "empty"),
        (write("one.tsv", "a\tx\nb\tx\n"), "only one label"),
        (write("bad.tsv", "good line\tx\nno tab on this line\n"), "bad.tsv:2: expected text<TAB>label"),
        (write("bad.jsonl", "{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\"}\n"), "bad.jsonl:2: invalid JSON"),
    ];
    for (file, expected) in cases {
        let out = wantloop(&["train", "classifier", "--train", &file, "--no-register"]);
        assert!(!out.status.success(), "{file} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{file}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
    }
}
