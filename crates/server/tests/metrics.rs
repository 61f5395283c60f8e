//! `/metrics` after some traffic: request counts and latency histograms per
//! route template and status, the store's gauges, the engine's timings, and
//! a request id on every response. Its own test binary: the Prometheus
//! recorder is one per process, so no other test's traffic is counted here.

mod common;

use serde_json::json;
use wantloop_store::testing::TestDb;

/// The value of the series named `name` whose labels include all of `labels`.
fn series(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (head, value) = line.rsplit_once(' ')?;
        let (metric, rest) = head.split_once('{').unwrap_or((head, ""));
        (metric == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse().ok())
            .flatten()
    })
}

#[tokio::test]
async fn metrics_count_the_traffic_and_read_the_store() {
    let db = TestDb::sqlite().await.unwrap();
    let app = common::boot(&db).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let (status, o) = app
            .post(
                "/v1/offers",
                json!({"provider": format!("p{n}"), "text": "山地自行车", "category": "bicycles", "price": 20000}),
            )
            .await;
        assert_eq!(status, 201);
        ids.push(o["id"].as_i64().unwrap());
    }
    for id in &ids[..2] {
        assert_eq!(app.get(&format!("/v1/offers/{id}")).await.0, 200);
    }
    assert_eq!(app.get("/v1/offers/999999").await.0, 404);
    assert_eq!(app.get("/no/such/route").await.0, 404);
    let (_, d) =
        app.post("/v1/demands", json!({"requester": "amy", "text": "想买山地自行车", "category": "bicycles"})).await;
    let (status, _) = app.post_empty(&format!("/v1/demands/{}/match", d["id"])).await;
    assert_eq!(status, 200);
    assert_eq!(app.get("/v1/search?q=%E8%87%AA%E8%A1%8C%E8%BD%A6").await.0, 200);

    let r = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = r.text().await.unwrap();
    let requests = |method, route, status| {
        series(&text, "wantloop_http_requests_total", &[("method", method), ("route", route), ("status", status)])
    };
    assert_eq!(requests("POST", "/v1/offers", "201"), Some(3.0), "{text}");
    assert_eq!(requests("GET", "/v1/offers/{id}", "200"), Some(2.0), "by route template, not by raw path");
    assert_eq!(requests("GET", "/v1/offers/{id}", "404"), Some(1.0));
    assert_eq!(requests("GET", "unmatched", "404"), Some(1.0));
    let timed = [("method", "POST"), ("route", "/v1/offers"), ("status", "201")];
    assert_eq!(series(&text, "wantloop_http_request_duration_seconds_count", &timed), Some(3.0));
    assert!(series(&text, "wantloop_http_request_duration_seconds_bucket", &[("le", "30")]).is_some());
    // The /metrics request itself is in flight while it renders.
    assert_eq!(series(&text, "wantloop_http_requests_in_flight", &[]), Some(1.0));

    // Gauges agree with the store.
    let stats = app.get("/v1/stats").await.1;
    let proposed = stats["matches"]["proposed"].as_f64().unwrap();
    assert!(proposed >= 1.0);
    assert_eq!(series(&text, "wantloop_matches", &[("state", "proposed")]), Some(proposed));
    let available = stats["offers"]["available"].as_f64().unwrap();
    assert_eq!(series(&text, "wantloop_offers", &[("status", "available")]), Some(available));
    assert!(series(&text, "wantloop_review_queue_length", &[]).is_some());
    assert!(series(&text, "wantloop_db_pool_connections", &[("state", "idle")]).is_some());
    assert_eq!(series(&text, "wantloop_outbox_last_event", &[]), stats["events"].as_f64());
    assert!(series(&text, "wantloop_outbox_lag_events", &[("consumer", "this-node-index")]).is_some());
    assert!(series(&text, "wantloop_search_seconds_count", &[]).unwrap_or(0.0) >= 1.0);
    assert_eq!(series(&text, "wantloop_active_model_version", &[("kind", "recommender")]), Some(0.0));
    assert!(series(&text, "wantloop_cache_misses_total", &[]).unwrap_or(0.0) >= 1.0);

    // Request ids: made when missing, kept when given, replaced when unfit to log.
    let made = app.http.get(app.url("/v1/offers")).send().await.unwrap();
    assert!(!made.headers()["x-request-id"].is_empty());
    let given = app.http.get(app.url("/v1/offers")).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(given.headers()["x-request-id"], "abc-123");
    let long = "x".repeat(300);
    let replaced = app.http.get(app.url("/v1/offers")).header("x-request-id", &long).send().await.unwrap();
    let id = replaced.headers()["x-request-id"].to_str().unwrap();
    assert!(!id.is_empty() && id.len() < 64, "{id}");
    db.cleanup().await;
}
