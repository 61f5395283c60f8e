//! Two `serve` processes on one PostgreSQL and one Redis, as a cluster runs:
//! both list each other in `GET /v1/cluster`, one holds the expiry job's
//! lease, and when that process is stopped (`SIGSTOP`) past its lease the
//! other takes over with a larger fencing token; the stopped one, resumed,
//! never writes with its old token (it may take the lease back, owning the
//! job on the ring, but as a new grant), and no period of the job ran twice. Needs
//! PostgreSQL (`WANTLOOP_TEST_PG_URL`) and Redis (`WANTLOOP_TEST_REDIS_URL`);
//! skips with a notice without them unless CI requires them.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;
use wantloop_store::Store;

mod common;

use common::{Node, serve};

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill {sig}");
}

async fn cluster(client: &reqwest::Client, base: &str) -> Value {
    client.get(format!("{base}/v1/cluster")).send().await.unwrap().json().await.unwrap()
}

/// The expiry job's (holder, token) in a cluster listing.
fn expiry_lease(c: &Value) -> Option<(String, u64)> {
    let job = c["jobs"].as_array()?.iter().find(|j| j["job"] == "expiry")?;
    Some((job["holder"].as_str()?.to_string(), job["token"].as_u64()?))
}

/// Polls `f` every 100 ms until it returns `Some`, for at most `limit`.
async fn until<T>(limit: Duration, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(started.elapsed() < limit, "not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_lease_holder_is_replaced_and_fenced_off() {
    let Some(db) = wantloop_store::testing::TestDb::postgres().await.unwrap() else { return };
    let Some((redis, _)) = wantloop_cluster::testing::redis().await else { return };
    let prefix = wantloop_cluster::testing::unique_prefix(':');
    let args = [
        "--database-url",
        &db.url,
        "--redis-url",
        &redis,
        "--redis-prefix",
        &prefix,
        "--expiry-interval-secs",
        "1",
        "--no-retrain",
    ];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, base_a) = serve(dir_a.path(), &args);
    let (b, base_b) = serve(dir_b.path(), &args);
    let (a, b) = (Node(a), Node(b));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
    let id_a = cluster(&client, &base_a).await["node"].as_str().unwrap().to_string();
    let id_b = cluster(&client, &base_b).await["node"].as_str().unwrap().to_string();

    // Both nodes are listed, with their addresses, and one holds the lease.
    let (holder, token) = until(Duration::from_secs(20), async || {
        let c = cluster(&client, &base_a).await;
        let nodes: Vec<&str> = c["nodes"].as_array()?.iter().filter_map(|n| n["id"].as_str()).collect();
        (nodes.contains(&id_a.as_str()) && nodes.contains(&id_b.as_str())).then_some(())?;
        expiry_lease(&c)
    })
    .await;
    let listed = cluster(&client, &base_b).await;
    let address_of = |id: &str| {
        listed["nodes"].as_array().unwrap().iter().find(|n| n["id"] == id).unwrap()["address"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(base_a.ends_with(&address_of(&id_a)) && base_b.ends_with(&address_of(&id_b)));
    let (stopped, other_base, other_id) = if holder == id_a { (&a.0, &base_b, &id_b) } else { (&b.0, &base_a, &id_a) };

    // Stop the holder; the other node takes over once its lease (three
    // periods) has run out, with a larger token.
    signal(stopped, "-STOP");
    let stopped_at = Instant::now();
    let (_, new_token) = until(Duration::from_secs(20), async || {
        expiry_lease(&cluster(&client, other_base).await).filter(|(h, _)| h == other_id)
    })
    .await;
    let failover = stopped_at.elapsed();
    assert!(new_token > token);
    // Resume it: it never writes with its old token again. It may take the
    // lease back (if the job is its own on the ring of live nodes), but only
    // as a new grant with a larger token. The store never saw a period twice,
    // a token go back, or one token on two nodes.
    signal(stopped, "-CONT");
    tokio::time::sleep(Duration::from_secs(3)).await;
    // (A handover leaves the lease free for a moment.)
    let (now_holder, now_token) =
        until(Duration::from_secs(10), async || expiry_lease(&cluster(&client, other_base).await)).await;
    assert!(now_token >= new_token && (now_holder == *other_id || now_token > new_token), "{now_holder} {now_token}");
    let runs = db.store.job_runs("expiry", 0, 10_000).await.unwrap();
    assert!(runs.windows(2).all(|w| w[0].period < w[1].period && w[0].token <= w[1].token), "{runs:?}");
    let mut node_of_token = std::collections::HashMap::new();
    assert!(runs.iter().all(|r| *node_of_token.entry(r.token).or_insert(&r.node) == &r.node), "{runs:?}");
    assert!(runs.iter().any(|r| r.token as u64 == new_token && &r.node == other_id), "{runs:?}");
    eprintln!("lease failover after {failover:?}; {} runs of the expiry job", runs.len());

    drop((a, b));
    db.cleanup().await;
}
