//! The `wantloop` binary as a user runs it: crash safety of `serve`, import
//! and export with bad rows, allocation of instance files, and the demo.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wantloop_store::{MatchFilter, OfferFilter, Page, SqlStore, Store};

mod common;

use common::{BIN, serve};

fn wantloop(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).env("WANTLOOP_LOG", "warn").output().expect("run wantloop")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_demands_survive_kill_9_on_sqlite() {
    // SQLite groups concurrent writes into one commit: each must be answered
    // only after that commit.
    acknowledged_demands_survive_kill_9(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_demands_survive_kill_9_on_postgres() {
    let Some(db) = wantloop_store::testing::TestDb::postgres().await.unwrap() else { return };
    acknowledged_demands_survive_kill_9(&["--database-url", &db.url]).await;
    db.cleanup().await;
}

async fn acknowledged_demands_survive_kill_9(extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve(dir.path(), extra);
    let acked: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let mut tasks = Vec::new();
    for t in 0..16 {
        let (client, base, acked) = (client.clone(), base.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..10_000 {
                let text = format!("需要一台二手自行车 writer {t} request {i}");
                let body = json!({"requester": format!("u{t}"), "text": text, "category": "bicycles"});
                let Ok(r) = client.post(format!("{base}/v1/demands")).json(&body).send().await else { return };
                if r.status() != 201 {
                    return;
                }
                let Ok(v) = r.json::<Value>().await else { return };
                acked.lock().unwrap().push((v["id"].as_i64().unwrap(), text));
            }
        }));
    }
    // Kill mid-burst, once a good number of writes have been acknowledged.
    while acked.lock().unwrap().len() < 300 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    child.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let (mut child, base) = serve(dir.path(), extra);
    for (id, text) in &acked {
        let r = client.get(format!("{base}/v1/demands/{id}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "acknowledged demand {id} is lost");
        assert_eq!(r.json::<Value>().await.unwrap()["text"], text.as_str());
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(acked.len() >= 300);
}

#[test]
fn import_reports_bad_rows_by_line_and_keeps_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let csv = dir.path().join("demands.csv");
    std::fs::write(
        &csv,
        "requester,text,category,budget,lat,lon,max_distance_km,quantity\n\
         alice,想买一张书桌,furniture,20000,30.27,120.15,10,1\n\
         bob,need a maths tutor,,-5,,,,1\n\
         carol,二手婴儿车,baby,30000,30.27,,,1\n\
         dave,a ladder for the weekend,tools,5000,,,,2\n\
         erin,not enough columns\n",
    )
    .unwrap();
    let out = wantloop(&["import", "demands", csv.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "rejected rows must fail the import");
    assert!(stderr.contains("line 3") && stderr.contains("budget"), "{stderr}");
    assert!(stderr.contains("line 4") && stderr.contains("lon"), "{stderr}");
    assert!(stderr.contains("line 6"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 2 demands"));

    let exported = wantloop(&["export", "demands", "--data-dir", data.to_str().unwrap()]);
    assert!(exported.status.success());
    let text = String::from_utf8(exported.stdout).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("想买一张书桌") && text.contains("a ladder for the weekend"));

    let jsonl = dir.path().join("offers.jsonl");
    std::fs::write(&jsonl, "{\"provider\":\"p\",\"text\":\"梯子\",\"category\":\"tools\",\"price\":100}\n{oops\n")
        .unwrap();
    let out = wantloop(&["import", "offers", jsonl.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2: invalid JSON"));

    let out = wantloop(&["import", "offers", "/nonexistent.csv", "--data-dir", data.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
}

#[test]
fn export_then_import_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let src = dir.path().join("offers.jsonl");
    let rows = [
        json!({"provider": "p1", "text": "九成新山地自行车", "category": "bicycles", "price": 30000, "lat": 30.2, "lon": 120.1, "capacity": 2, "condition": "like_new"}),
        json!({"provider": "p2", "text": "Piano lessons, weekends", "category": "tutoring", "price": 20000, "capacity": 5}),
    ];
    std::fs::write(&src, rows.iter().map(|r| format!("{r}\n")).collect::<String>()).unwrap();
    assert!(wantloop(&["import", "offers", src.to_str().unwrap(), "--data-dir", a.to_str().unwrap()]).status.success());
    let first = dir.path().join("first.csv");
    assert!(
        wantloop(&["export", "offers", "--out", first.to_str().unwrap(), "--data-dir", a.to_str().unwrap()])
            .status
            .success()
    );
    assert!(
        wantloop(&["import", "offers", first.to_str().unwrap(), "--data-dir", b.to_str().unwrap()]).status.success()
    );
    let second = dir.path().join("second.csv");
    assert!(
        wantloop(&["export", "offers", "--out", second.to_str().unwrap(), "--data-dir", b.to_str().unwrap()])
            .status
            .success()
    );
    let (first, second) = (std::fs::read_to_string(first).unwrap(), std::fs::read_to_string(second).unwrap());
    assert_eq!(first, second);
    assert!(first.contains("九成新山地自行车") && first.contains("like_new"));
}

#[test]
fn allocates_instance_files_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    // d1 prefers o1 (0.9) but can use o2 (0.8); d2 can use only o1 (0.7).
    // Greedy: d1-o1 = 0.9. Optimum: d1-o2 + d2-o1 = 1.5.
    std::fs::write(p("d.csv"), "demand_id,quantity\nd1,1\nd2,1\n").unwrap();
    std::fs::write(p("o.csv"), "offer_id,capacity\no1,1\no2,1\n").unwrap();
    std::fs::write(p("e.csv"), "demand_id,offer_id,score\nd1,o1,0.9\nd1,o2,0.8\nd2,o1,0.7\n").unwrap();
    let (d, o, e) = (p("d.csv"), p("o.csv"), p("e.csv"));
    let args = |greedy: bool| {
        let mut a = vec!["allocate", "--json", "--demands", d.to_str().unwrap(), "--offers", o.to_str().unwrap()];
        a.extend(["--edges", e.to_str().unwrap()]);
        if greedy {
            a.push("--greedy");
        }
        a
    };
    let opt: Value = serde_json::from_slice(&wantloop(&args(false)).stdout).unwrap();
    assert!((opt["objective"].as_f64().unwrap() - 1.5).abs() < 1e-6, "{opt}");
    assert_eq!(opt["units"], 2);
    assert!(opt["seconds"].is_number() && opt["load_seconds"].is_number());
    let greedy: Value = serde_json::from_slice(&wantloop(&args(true)).stdout).unwrap();
    assert!((greedy["objective"].as_f64().unwrap() - 0.9).abs() < 1e-6, "{greedy}");

    std::fs::write(p("e.csv"), "demand_id,offer_id,score\nd1,o9,0.9\n").unwrap();
    let out = wantloop(&args(false));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("o9") && err.trim().lines().count() == 1, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_the_whole_loop_without_overbooking() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let out = wantloop(&[
        "demo",
        "--no-serve",
        "--json",
        "--offers",
        "150",
        "--demands",
        "300",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let demands: i64 = summary["stats"]["demands"].as_object().unwrap().values().map(|v| v.as_i64().unwrap()).sum();
    assert_eq!(demands, 300);
    assert!(summary["stats"]["demands"]["fulfilled"].as_i64().unwrap() > 0, "{summary}");
    assert!(summary["stats"]["relisted_offers"].as_i64().unwrap() > 0, "{summary}");
    assert!(
        summary["allocation"]["objective"].as_f64().unwrap() >= summary["greedy_objective"].as_f64().unwrap() - 1e-9
    );

    // Every offer's units add up: reserved + consumed ≤ capacity, and both
    // equal what its matches hold.
    let store = SqlStore::connect(&format!("sqlite://{}/wantloop.db", data.display())).await.unwrap();
    let offers = store.list_offers(&OfferFilter::default(), Page::first(1000)).await.unwrap();
    let matches = store.list_matches(&MatchFilter::default(), Page::first(1000)).await.unwrap();
    for o in &offers {
        assert!(o.reserved + o.consumed <= o.capacity, "{o:?}");
        let held: i64 = matches.iter().filter(|m| m.offer_id == o.id && m.status.holds_units()).map(|m| m.units).sum();
        let used: i64 =
            matches.iter().filter(|m| m.offer_id == o.id && m.status.as_str() == "fulfilled").map(|m| m.units).sum();
        assert_eq!((o.reserved, o.consumed), (held, used), "{o:?}");
    }

    // The demo made an admin key and a key for one of its requesters.
    let keys = store.list_keys().await.unwrap();
    let roles: Vec<&str> = keys.iter().map(|k| k.role.as_str()).collect();
    assert_eq!(roles, ["admin", "user"]);
    let party = summary["keys"]["user_party"].as_str().unwrap();
    assert_eq!(keys[1].party.as_deref(), Some(party));
    let demands = store.list_demands(&Default::default(), Page::first(1000)).await.unwrap();
    assert!(demands.iter().any(|d| d.requester == party), "the demo user has demands");
    for (field, key) in [("admin", &keys[0]), ("user", &keys[1])] {
        let token = wantloop_store::keys::KeyToken::parse(summary["keys"][field].as_str().unwrap()).unwrap();
        assert_eq!(token.id, key.id);
        assert_eq!(store.key_with_hash(key.id).await.unwrap().unwrap().1, token.secret_hash());
    }

    // Synonyms and the other language (the bundled dictionary): each way of
    // asking for a bicycle finds every bicycle, written in either language.
    let engine = wantloop_engine::Engine::open(&wantloop_engine::EngineConfig::embedded(&data)).await.unwrap();
    let bicycles: Vec<_> = offers.iter().filter(|o| o.category == "bicycles").collect();
    let chinese = |text: &str| text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    let in_chinese = bicycles.iter().filter(|o| chinese(&o.text)).count();
    assert!(in_chinese > 0 && in_chinese < bicycles.len(), "the demo has bicycles in both languages");
    for q in ["bike", "自行车", "单车", "山地车"] {
        let request = wantloop_search::SearchRequest {
            q: q.into(),
            kind: Some(wantloop_search::Kind::Offer),
            limit: 500,
            ..Default::default()
        };
        let r = engine.search(&request).await.unwrap();
        let found = r.hits.iter().filter(|h| h.category == "bicycles").count();
        assert_eq!(found, bicycles.len(), "{q}: every bicycle");
        assert_eq!(r.hits[0].category, "bicycles", "{q}: a bicycle first");
    }

    // The assistant works on the demo out of the box: the FAQ about
    // wantloop, and the market graph with the store's own count.
    assert!(summary["faq_entries"].as_i64().unwrap() >= 80, "{summary}");
    let a = engine.ask("提议的匹配多久失效？", None).await.unwrap();
    assert!(a.answered && a.answer.contains("48"), "{a:?}");
    let hangzhou = wantloop_core::GeoPoint { lat: 30.2741, lon: 120.1551 };
    let available_bikes = offers
        .iter()
        .filter(|o| o.category == "bicycles" && o.status.as_str() == "available")
        .filter(|o| o.location.is_some_and(|p| p.distance_km(&hangzhou) <= 50.0))
        .count();
    let a = engine.ask("杭州有多少辆可用的二手自行车？", None).await.unwrap();
    match &a.source {
        Some(wantloop_engine::ask::AnswerSource::Graph { facts, .. }) => {
            assert_eq!(facts["count"], available_bikes, "{a:?}")
        }
        other => panic!("not from the graph: {other:?}"),
    }
}

#[test]
fn the_assistant_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let faq = dir.path().join("faq.csv");
    std::fs::write(
        &faq,
        "entry,lang,question,answer\n\
         expiry,zh,提议的匹配多久失效？,48 小时后失效。\n\
         expiry,zh,匹配多长时间会过期,\n\
         broken,xx,q,a\n",
    )
    .unwrap();
    let d = data.to_str().unwrap();
    let out = wantloop(&["import", "faq", faq.to_str().unwrap(), "--data-dir", d]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a refused line fails the import");
    assert!(err.contains("line 4") && err.contains("lang"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 1 FAQ entries"));
    let out = wantloop(&["ask", "匹配多长时间会过期？", "--json", "--data-dir", d]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((a["answered"].as_bool(), a["answer"].as_str()), (Some(true), Some("48 小时后失效。")), "{a}");
    let out = wantloop(&["ask", "", "--data-dir", d]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("question") && err.trim().lines().count() == 1, "{err}");

    // The end-to-end set of the demo: FAQ answers, graph answers and refusals.
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/demo");
    let out = wantloop(&[
        "eval",
        "ask",
        "--faq",
        &format!("{demo}/faq.jsonl"),
        "--questions",
        &format!("{demo}/ask-test.jsonl"),
        "--validation",
        &format!("{demo}/ask-validation.jsonl"),
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lexical = &r["lexical"]["default"];
    // Refusing everything scores 0.22 here and answering everything about 0.53.
    assert!(lexical["accuracy"].as_f64().unwrap() >= 0.55, "{r}");
    assert!(lexical["refused_right"].as_f64().unwrap() >= 0.5, "{r}");
}

#[test]
fn bad_arguments_fail_with_a_clear_message() {
    let out = wantloop(&["serve", "--listen", "not-an-address"]);
    assert!(!out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = wantloop(&["import", "demands", "x.txt", "--data-dir", data.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("use a .csv or .jsonl file"));
    assert!(!data.join("wantloop.db").exists(), "a file that cannot be read creates no database");
    let out = wantloop(&["serve", "--database-url", "mysql://nope"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsupported database URL") && err.trim().lines().count() == 1, "{err}");
    for (arg, name) in
        [("--retrain-every-hours=inf", "--retrain-every-hours"), ("--retrain-min-interval-minutes=-1", "--retrain-min")]
    {
        let out = wantloop(&["serve", "--listen", "127.0.0.1:0", arg]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(name) && err.trim().lines().count() == 1, "{err}");
    }
    let data = data.to_str().unwrap();
    for (args, want) in [
        (&["serve", "--listen", "127.0.0.1:0", "--allocate-every", "0"][..], "--allocate-every"),
        (&["serve", "--listen", "127.0.0.1:0", "--allocate-every", "5", "--allocate-mode", "best"][..], "best"),
        (&["models", "list", "--data-dir", data, "--blob-store", "memory:"][..], "memory:"),
        (&["models", "list", "--data-dir", data, "--blob-store", "gs://bucket"][..], "unsupported blob store"),
    ] {
        let out = wantloop(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "{args:?}: {err}");
    }
}

/// Trained models land in the blob folder beside the SQLite database, whether
/// the store is named by its folder or by its URL, and load either way.
#[test]
fn models_live_beside_the_sqlite_database_however_it_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ml/tests/fixtures/demands_train.tsv");
    let out = wantloop(&[
        "train",
        "classifier",
        "--train",
        fixture.to_str().unwrap(),
        "--activate",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let objects = std::fs::read_dir(data.join("blobs/models/classifier")).unwrap().count();
    assert_eq!(objects, 1, "the model file is in DATA_DIR/blobs");
    let url = format!("sqlite://{}/wantloop.db", data.display());
    let elsewhere = dir.path().join("elsewhere");
    let out = wantloop(&[
        "eval",
        "classifier",
        "--model-id",
        "1",
        "--test",
        fixture.to_str().unwrap(),
        "--json",
        "--database-url",
        &url,
        "--data-dir",
        elsewhere.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "the model loads through the URL: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_catches_its_search_index_up() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (mut child, base) = serve(dir.path(), &[]);
    let offer = json!({"provider": "p", "text": "九成新电钻", "category": "tools", "price": 100});
    let created = client.post(format!("{base}/v1/offers")).json(&offer).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let picture = {
        let img = image::RgbImage::from_fn(64, 48, |x, _| image::Rgb([(x * 4) as u8, 120, 30]));
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        png.into_inner()
    };
    let upload = |body: Vec<u8>, url: String| client.post(url).header("content-type", "image/png").body(body).send();
    assert_eq!(upload(picture.clone(), format!("{base}/v1/offers/{id}/images")).await.unwrap().status(), 201);
    // A search by image catches the node's visual index up, which saves it.
    let r = upload(picture.clone(), format!("{base}/v1/search/image")).await.unwrap();
    assert_eq!(r.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
    // While the node is down, another writer adds an offer.
    let file = dir.path().join("more.jsonl");
    std::fs::write(&file, "{\"provider\":\"q\",\"text\":\"铝合金梯子\",\"category\":\"tools\",\"price\":50}\n")
        .unwrap();
    let data = dir.path().to_str().unwrap();
    assert!(wantloop(&["import", "offers", file.to_str().unwrap(), "--data-dir", data]).status.success());
    let (mut child, base) = serve(dir.path(), &[]);
    // Answered from the index as soon as the node is up: it caught up before serving.
    let r: Value =
        client.get(format!("{base}/v1/search?q=%E6%A2%AF%E5%AD%90")).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["total"], 1, "{r}");
    // The visual index was saved beside the search index and answers after the restart.
    assert!(dir.path().join("search.visual").is_file());
    let r: Value =
        upload(picture, format!("{base}/v1/search/image?available=false")).await.unwrap().json().await.unwrap();
    assert_eq!(r[0]["offer"]["id"], id, "{r}");
    child.kill().unwrap();
    child.wait().unwrap();
    let out = wantloop(&["reindex", "--images", "--data-dir", data]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("re-vectorised 0 of 1 images"), "{stdout}");
    assert!(stdout.contains("indexed 2 offers and demands"), "{stdout}");
}

#[test]
fn settings_come_from_flags_then_environment_then_wantloop_toml() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = dir.path().join("from-file");
    let from_env = dir.path().join("from-env");
    std::fs::write(dir.path().join("wantloop.toml"), format!("data_dir = {:?}\n", from_file.display().to_string()))
        .unwrap();
    let offers = dir.path().join("o.jsonl");
    std::fs::write(&offers, "{\"provider\":\"p\",\"text\":\"梯子\",\"category\":\"tools\",\"price\":1}\n").unwrap();
    let run = |env: Option<&Path>| {
        let mut c = Command::new(BIN);
        c.current_dir(dir.path()).args(["import", "offers", offers.to_str().unwrap()]).env("WANTLOOP_LOG", "warn");
        c.env_remove("WANTLOOP_DATA_DIR");
        if let Some(e) = env {
            c.env("WANTLOOP_DATA_DIR", e);
        }
        assert!(c.output().unwrap().status.success());
    };
    run(None);
    assert!(from_file.join("wantloop.db").exists(), "the file's data_dir is used");
    run(Some(&from_env));
    assert!(from_env.join("wantloop.db").exists(), "the environment beats the file");
    std::fs::write(dir.path().join("wantloop.toml"), "data_dir = [1, 2]\n").unwrap();
    let out = Command::new(BIN).current_dir(dir.path()).args(["models", "list"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("data_dir must be a string"));
}

#[test]
fn boolean_settings_read_as_people_write_them() {
    use std::io::{BufRead, BufReader};
    for value in ["1", "yes", "on", "true", "0", "off"] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env("WANTLOOP_NO_RETRAIN", value)
            .env("WANTLOOP_LOG_JSON", value)
            .env("WANTLOOP_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        assert!(line.contains("serving on"), "WANTLOOP_NO_RETRAIN={value}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = Command::new(BIN).args(["serve"]).env("WANTLOOP_NO_RETRAIN", "maybe").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-retrain"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn synonyms_are_set_shown_and_tried_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "梯子, ladder\nlonely\n").unwrap();
    let out = wantloop(&["synonyms", "set", bad.to_str().unwrap(), "--data-dir", data]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
    let good = dir.path().join("good.txt");
    std::fs::write(&good, "# ours\nstepladder => 梯子\n").unwrap();
    let out = wantloop(&["synonyms", "set", good.to_str().unwrap(), "--data-dir", data]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("saved version 1"));
    let out = wantloop(&["synonyms", "expand", "a stepladder", "--data-dir", data]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "梯子\n");
    let out = wantloop(&["synonyms", "show", "--json", "--data-dir", data]);
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["list"]["version"], 1);
    assert_eq!(shown["list"]["author"], "cli");
}
