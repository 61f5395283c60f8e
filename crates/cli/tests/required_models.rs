//! The pretrained models a node serves with: `serve --require-models` refuses
//! to start a node without them; `/healthz` lists them; and in a cluster on
//! PostgreSQL `GET /v1/cluster` says when the nodes' models differ (one node
//! would match English questions by meaning, the other by their words). The
//! model parts need the installed models (`WANTLOOP_TEXT_MODEL`,
//! `WANTLOOP_IMAGE_MODEL`, required by `.ci/run`), the cluster part
//! PostgreSQL (`WANTLOOP_TEST_PG_URL`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

use common::{BIN, Node, serve, serve_with_env};

/// Installs a model into a data folder by a link (they are 20 to 90 MB).
fn link(data_dir: &Path, model: &Path, installed: &str) {
    std::fs::create_dir_all(data_dir.join("models")).unwrap();
    std::os::unix::fs::symlink(model, data_dir.join(installed)).unwrap();
}

/// Runs `serve` expecting it to refuse to start: its error output. A server
/// that starts anyway is killed and fails the test rather than hanging it.
fn refused(data_dir: &Path, args: &[&str], env: Option<&str>) -> String {
    let mut command = Command::new(BIN);
    command.args(["serve", "--listen", "127.0.0.1:0", "--open", "--data-dir"]).arg(data_dir).args(args);
    command.env_remove("WANTLOOP_REQUIRE_MODELS").stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(value) = env {
        command.env("WANTLOOP_REQUIRE_MODELS", value);
    }
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("serve {args:?} (WANTLOOP_REQUIRE_MODELS={env:?}) started");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn get(client: &reqwest::Client, url: String) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

#[test]
fn serve_refuses_to_start_without_a_required_model() {
    let dir = tempfile::tempdir().unwrap();
    for (args, env, kind) in [
        (&["--require-models", "text"][..], None, "text"),
        (&["--require-models", "image"][..], None, "image"),
        (&["--require-models", "text,image"][..], None, "text"),
        (&[][..], Some(" image , text "), "image"),
    ] {
        let err = refused(dir.path(), args, env);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(&format!("--require-models {kind}: the {kind} model is not installed")), "{err}");
        assert!(err.contains(&format!("wantloop models install {kind} --data-dir")), "{err}");
    }
    let err = refused(dir.path(), &["--require-models", "text,video"], None);
    assert!(err.contains("`video` is not a pretrained model") && err.trim().lines().count() == 1, "{err}");
    assert!(!dir.path().join("wantloop.db").exists(), "no store is opened before the check");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_list_their_models_and_the_cluster_says_when_they_differ() {
    let Some(text) = wantloop_ml::sentence::testing::model_dir("a node with the text model is not tested") else {
        return;
    };
    let Some(image) = wantloop_image::learned::testing::weights("a node with the image model is not tested") else {
        return;
    };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let both = json!(["text:all-minilm-l6-v2", "image:efficientnet-lite0"]);

    // One node, embedded, with both models: it starts though it requires
    // them (an empty variable or a trailing comma is no error) and lists them.
    let alone = tempfile::tempdir().unwrap();
    link(alone.path(), &text, wantloop_ml::sentence::INSTALLED);
    link(alone.path(), &image, wantloop_image::learned::INSTALLED);
    for (args, env) in [(&["--require-models", "image, text"][..], ""), (&[][..], "text,image,"), (&[][..], "")] {
        let args = [&["--open", "--no-retrain"][..], args].concat();
        let (child, base) = serve_with_env(alone.path(), &args, &[("WANTLOOP_REQUIRE_MODELS", env)]);
        let node = Node(child);
        assert_eq!(get(&client, format!("{base}/healthz")).await["models"], both);
        assert_eq!(get(&client, format!("{base}/readyz")).await["models"], both);
        drop(node);
    }

    // Two nodes on one database, one without the model: the listing says so.
    let Some(db) = wantloop_store::testing::TestDb::postgres().await.unwrap() else { return };
    let args = ["--database-url", db.url.as_str(), "--no-retrain"];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    link(dir_a.path(), &text, wantloop_ml::sentence::INSTALLED);
    let (a, base_a) = serve(dir_a.path(), &args);
    let (b, base_b) = serve(dir_b.path(), &args);
    let (a, b) = (Node(a), Node(b));
    assert_eq!(get(&client, format!("{base_b}/healthz")).await["models"], json!([]));
    let id_a = get(&client, format!("{base_a}/v1/cluster")).await["node"].clone();
    let started = Instant::now();
    let listing = loop {
        let c = get(&client, format!("{base_b}/v1/cluster")).await;
        if c["nodes"].as_array().is_some_and(|n| n.len() == 2) {
            break c;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "both nodes listed: {c}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(listing["models_agree"], json!(false), "{listing}");
    for n in listing["nodes"].as_array().unwrap() {
        let expected = if n["id"] == id_a { json!(["text:all-minilm-l6-v2"]) } else { json!([]) };
        assert_eq!(n["models"], expected, "{listing}");
    }
    drop((a, b));
    db.cleanup().await;
}
