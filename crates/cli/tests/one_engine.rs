//! Every command opens the same engine as the API: `import` classifies with
//! the active model, and `allocate` proposes what `POST /v1/allocate` does.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};
use wantloop_store::{DemandFilter, Page, SqlStore, Store};

mod common;

use common::{BIN, serve};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ml/tests/fixtures").join(name).display().to_string()
}

fn wantloop(args: &[&str]) -> std::process::Output {
    let out = Command::new(BIN).args(args).env("WANTLOOP_LOG", "warn").output().expect("run wantloop");
    assert!(out.status.success(), "wantloop {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_classifies_with_the_active_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.display().to_string();
    wantloop(&["train", "classifier", "--train", &fixture("demands_train.tsv"), "--activate", "--data-dir", &data_arg]);

    // Held-out texts without a category, and one row with its category given.
    let test = std::fs::read_to_string(fixture("demands_test.tsv")).unwrap();
    let texts: Vec<&str> = test.lines().step_by(6).map(|l| l.split('\t').next().unwrap()).collect();
    let mut csv = String::from("requester,text,category\n");
    for (i, t) in texts.iter().enumerate() {
        csv.push_str(&format!("u{i},\"{}\",\n", t.replace('"', "\"\"")));
    }
    csv.push_str("given,想找人修自行车,bicycles\n");
    let file = dir.path().join("demands.csv");
    std::fs::write(&file, csv).unwrap();
    wantloop(&["import", "demands", &file.display().to_string(), "--data-dir", &data_arg]);

    // The embedded profile keeps model files in DATA_DIR/blobs.
    let blobs = wantloop_store::open_blobs(&data.join("blobs").display().to_string()).unwrap();
    let store = SqlStore::connect(&format!("sqlite://{}/wantloop.db", data.display())).await.unwrap().with_blobs(blobs);
    let active = store.active_model("classifier").await.unwrap().expect("an active classifier");
    let model = wantloop_ml::Classifier::from_bytes(&store.model_blob(active.id).await.unwrap()).unwrap();
    let demands = store.list_demands(&DemandFilter::default(), Page::first(100)).await.unwrap();
    assert_eq!(demands.len(), texts.len() + 1);
    for d in demands.iter().filter(|d| d.requester != "given") {
        let want = model.predict(&d.text);
        assert_eq!(d.category_model.as_deref(), Some(active.tag().as_str()), "{d:?}");
        assert_eq!((d.category.as_str(), d.category_confidence), (want.label.as_str(), want.confidence), "{d:?}");
    }
    let given = demands.iter().find(|d| d.requester == "given").unwrap();
    assert_eq!((given.category.as_str(), given.category_model.as_deref()), ("bicycles", None));
}

/// (demand, offer, units) of a dry run's plan.
fn pairs(report: &Value) -> Vec<(i64, i64, i64)> {
    let plan = report["plan"].as_array().unwrap_or_else(|| panic!("no plan in {report}"));
    plan.iter()
        .map(|p| (p["demand_id"].as_i64().unwrap(), p["offer_id"].as_i64().unwrap(), p["units"].as_i64().unwrap()))
        .collect()
}

fn assert_same_allocation(api: &Value, cli: &Value) {
    assert_eq!(pairs(api), pairs(cli), "API {api}\nCLI {cli}");
    assert_eq!(api["edges"], cli["edges"]);
    let (a, c) = (api["objective"].as_f64().unwrap(), cli["objective"].as_f64().unwrap());
    // Freshness moves by ~1e-7 a second, nothing else may differ.
    assert!((a - c).abs() <= 1e-4 * a.abs().max(1.0), "objective: API {a}, CLI {c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allocate_on_the_command_line_proposes_what_the_api_proposes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut child, base) = serve(&data, &["--no-retrain"]);
    let http = reqwest::Client::new();
    let offers = [
        ("bob", "九成新山地自行车 变速 禧玛诺", "bicycles", 30_000, 2),
        ("carol", "儿童自行车 16寸 带辅助轮", "bicycles", 12_000, 1),
        ("dan", "公路自行车 碳纤维 车架", "bicycles", 80_000, 1),
        ("erin", "实木书桌 一米二", "furniture", 20_000, 1),
        ("fay", "maths tutoring for secondary school, weekends", "tutoring", 15_000, 3),
    ];
    for (provider, text, category, price, capacity) in offers {
        let body = json!({"provider": provider, "text": text, "category": category, "price": price,
            "capacity": capacity, "location": {"lat": 30.28, "lon": 120.16}});
        assert_eq!(http.post(format!("{base}/v1/offers")).json(&body).send().await.unwrap().status(), 201);
    }
    let demands = [
        ("u1", "想买一台二手山地自行车，预算500元", "bicycles", 50_000),
        ("u2", "给孩子找一辆儿童自行车", "bicycles", 20_000),
        ("u3", "求购自行车 公路车也行", "bicycles", 100_000),
        ("u4", "need a maths tutor for my son on weekends", "tutoring", 30_000),
        ("u5", "找一张书桌", "furniture", 30_000),
        ("u6", "山地自行车 变速", "bicycles", 40_000),
    ];
    for (requester, text, category, budget) in demands {
        let body = json!({"requester": requester, "text": text, "category": category, "budget": budget,
            "location": {"lat": 30.27, "lon": 120.15}, "max_distance_km": 20});
        assert_eq!(http.post(format!("{base}/v1/demands")).json(&body).send().await.unwrap().status(), 201);
    }
    let r = http.post(format!("{base}/v1/allocate")).json(&json!({"dry_run": true})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let api: Value = r.json().await.unwrap();
    assert!(pairs(&api).len() >= 4, "the market should allocate: {api}");

    let data_arg = data.display().to_string();
    let cli = |args: &[&str]| -> Value {
        let out = wantloop(&[args, &["--data-dir", &data_arg]].concat());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    // While the server holds the index, and after it stopped.
    assert_same_allocation(&api, &cli(&["allocate", "--dry-run", "--json"]));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_same_allocation(&api, &cli(&["allocate", "--dry-run", "--json"]));
}
