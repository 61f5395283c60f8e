//! Matching as queued work through the API: `?async=true` answers 202 with a
//! job that a worker finishes, `"auto_match": true` queues a new demand's
//! match and names the job in `Link`, a repeated `Idempotency-Key` finds the
//! same job, and a job delivered twice proposes once. On SQLite and, when
//! configured, PostgreSQL; the queue is the in-process one here (the NATS
//! one passes the same queue conformance suite in `wantloop-cluster`).

mod common;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use wantloop_engine::match_jobs::MatchWork;
use wantloop_store::testing::TestDb;
use wantloop_store::{MatchFilter, Outcome};

async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![TestDb::sqlite().await.unwrap()];
    dbs.extend(TestDb::postgres().await.unwrap());
    dbs
}

async fn offer(app: &common::App, capacity: i64) -> i64 {
    let body = json!({"provider": "bob", "text": "九成新山地自行车", "category": "bicycles", "price": 30000, "capacity": capacity});
    let (status, o) = app.post("/v1/offers", body).await;
    assert_eq!(status, StatusCode::CREATED);
    o["id"].as_i64().unwrap()
}

fn demand(requester: &str) -> Value {
    json!({"requester": requester, "text": "想买一台二手山地自行车", "category": "bicycles", "budget": 50000})
}

/// Polls a job until it is no longer running.
async fn finished(app: &common::App, location: &str) -> Value {
    let started = Instant::now();
    loop {
        let (status, job) = app.get(location).await;
        assert_eq!(status, StatusCode::OK);
        if job["status"] != "running" {
            return job;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "job {location} still running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_matches_are_done_by_a_worker_once() {
    for db in databases().await {
        let app = common::boot(&db).await;
        let o = offer(&app, 5).await;

        // ?async=true: 202, the job's Location, then the proposal in the job.
        let (_, d) = app.post("/v1/demands", demand("amy")).await;
        let id = d["id"].as_i64().unwrap();
        let r = app.http.post(app.url(&format!("/v1/demands/{id}/match?async=true"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let job = finished(&app, &location).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        assert_eq!(job["result"]["matches"][0]["offer_id"], o);
        assert_eq!(app.get(&format!("/v1/demands/{id}")).await.1["status"], "matched");

        // "auto_match": true on a new demand: Link names its job.
        let mut body = demand("ben");
        body["auto_match"] = json!(true);
        let r = app.http.post(app.url("/v1/demands")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let link = r.headers()["link"].to_str().unwrap().to_string();
        let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let location = link.trim_start_matches('<').split('>').next().unwrap().to_string();
        assert!(link.ends_with("rel=\"match-job\""), "{link}");
        assert_eq!(finished(&app, &location).await["status"], "succeeded");
        assert_eq!(app.get(&format!("/v1/demands/{id}")).await.1["status"], "matched");
        // Without it, nothing is queued.
        let r = app.http.post(app.url("/v1/demands")).json(&demand("cat")).send().await.unwrap();
        assert!(r.headers().get("link").is_none());

        // The same Idempotency-Key finds the same job.
        let (_, d) = app.post("/v1/demands", demand("dan")).await;
        let id = d["id"].as_i64().unwrap();
        let send = || {
            app.http
                .post(app.url(&format!("/v1/demands/{id}/match?async=true")))
                .header("Idempotency-Key", "queued-1")
                .send()
        };
        let first = send().await.unwrap().headers()["content-location"].to_str().unwrap().to_string();
        let again = send().await.unwrap();
        assert_eq!(again.headers()["content-location"].to_str().unwrap(), first);
        assert_eq!(again.headers()["idempotent-replayed"], "true");

        // Bad input: a clear 400 naming the field; a demand that does not
        // exist is 404 and queues nothing.
        let r = app.http.post(app.url(&format!("/v1/demands/{id}/match?async=maybe"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.text().await.unwrap().contains("async"));
        let r = app.http.post(app.url("/v1/demands/999999/match?async=true")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        db.cleanup().await;
    }
}

/// A job delivered twice (its first node died after proposing, before
/// acknowledging) proposes once: the second run finds the job's key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_match_job_takes_effect_once() {
    for db in databases().await {
        let app = common::boot(&db).await;
        offer(&app, 5).await;
        let (_, d) = app
            .post(
                "/v1/demands",
                json!({"requester": "amy", "text": "想买自行车", "category": "bicycles", "quantity": 2}),
            )
            .await;
        let demand = d["id"].as_i64().unwrap();
        let mut config = wantloop_engine::EngineConfig::embedded(std::path::Path::new("."));
        config.database_url = db.url.clone();
        config.index = wantloop_engine::IndexLocation::Memory;
        let engine = wantloop_engine::Engine::with_store(app.store.clone(), &config).await.unwrap();
        let Outcome::Done(job) = engine.create_match_job(demand, None).await.unwrap() else { panic!("a new job") };
        let work = MatchWork { job: job.id, demand };
        let first = engine.run_match(work).await.unwrap();
        let again = engine.run_match(work).await.unwrap();
        let Outcome::Done(proposal) = first else { panic!("the first delivery proposes") };
        let Outcome::Replayed(stored) = again else { panic!("the second finds the first's proposal") };
        assert_eq!(serde_json::from_str::<Value>(&stored.body).unwrap(), serde_json::to_value(&proposal).unwrap());
        let filter = MatchFilter { demand_id: Some(demand), ..Default::default() };
        let matches = app.store.list_matches(&filter, wantloop_store::Page::first(100)).await.unwrap();
        assert_eq!(matches.iter().map(|m| m.units).sum::<i64>(), 2, "proposed once: {matches:?}");
        db.cleanup().await;
    }
}
