//! The server under abuse: limits answered as problems (rate, in-flight, time,
//! URL and header size), bodies without a JSON type refused, creates that say
//! where they created, long work as jobs with idempotency keys, and a
//! readiness probe that says what is wrong in the documented shape.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use wantloop_server::Limits;
use wantloop_store::testing::TestDb;

mod common;

use common::{App, boot, boot_with};

fn is_problem(r: &reqwest::Response) -> bool {
    r.headers().get("content-type").and_then(|v| v.to_str().ok()) == Some("application/problem+json")
}

/// Opens a request whose body never finishes arriving: it holds its
/// in-flight slot until the connection is dropped.
async fn stalled_request(app: &App) -> tokio::net::TcpStream {
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = "POST /v1/offers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp
}

/// Reads what the server answers on a raw connection, until it has sent a
/// problem or closed; fails if it answers nothing within 10 s.
async fn answer_to(mut tcp: tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            let n = tcp.read(&mut buf).await.unwrap();
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&answer).contains("/problems/") {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server answered nothing");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_over_their_rate_get_429_and_probes_never_do() {
    let db = TestDb::sqlite().await.unwrap();
    let app = boot_with(&db, Limits { rate_per_second: 2, rate_burst: 5, ..Limits::default() }).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = app.http.get(app.url("/v1/offers")).send().await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(is_problem(&r));
            let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=5).contains(&wait), "{wait}");
        }
        statuses.push(r.status());
    }
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert!(statuses[..5].iter().all(|s| *s == StatusCode::OK), "the burst passes: {statuses:?}");
    assert!(limited >= 5, "{statuses:?}");
    for _ in 0..20 {
        assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
    }
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_clients_are_told_apart_by_their_forwarded_address() {
    let db = TestDb::sqlite().await.unwrap();
    let limits = Limits { rate_per_second: 1, rate_burst: 1, trust_forwarded_for: true, ..Limits::default() };
    let app = boot_with(&db, limits).await;
    let get = async |client: &str| {
        let r = app.http.get(app.url("/v1/offers")).header("x-forwarded-for", format!("10.0.0.9, {client}"));
        r.send().await.unwrap().status()
    };
    // Every client has its own bucket, although all come from one peer.
    for i in 0..5 {
        assert_eq!(get(&format!("192.0.2.{i}")).await, StatusCode::OK);
    }
    assert_eq!(get("192.0.2.0").await, StatusCode::TOO_MANY_REQUESTS, "the last hop is the client");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_in_flight_limit_are_shed_with_503() {
    let db = TestDb::sqlite().await.unwrap();
    let app = boot_with(&db, Limits { max_in_flight: 1, ..Limits::default() }).await;
    // A stalled request takes the only slot (if it arrived while another
    // request held it, it was itself shed: open another).
    let mut shed = None;
    let mut stalled = None;
    for _ in 0..20 {
        stalled = Some(stalled_request(&app).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = app.http.get(app.url("/v1/offers")).send().await.unwrap();
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            shed = Some(r);
            break;
        }
    }
    let stalled = stalled.unwrap();
    let r = shed.expect("a second request is shed while the first holds the slot");
    assert!(is_problem(&r));
    assert_eq!(r.headers()["retry-after"], "1");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "/problems/overloaded");
    // Probes still answer, and the slot comes back when the client goes.
    assert_eq!(app.get("/readyz").await.0, StatusCode::OK);
    drop(stalled);
    let mut ok = false;
    for _ in 0..100 {
        if app.get("/v1/offers").await.0 == StatusCode::OK {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_its_time_is_answered_503() {
    let db = TestDb::sqlite().await.unwrap();
    let app = boot_with(&db, Limits { request_timeout: Duration::from_millis(300), ..Limits::default() }).await;
    let text = answer_to(stalled_request(&app).await).await;
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_answered_408_even_where_work_is_long() {
    let db = TestDb::sqlite().await.unwrap();
    let app = boot_with(&db, Limits { body_timeout: Duration::from_millis(300), ..Limits::default() }).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    // /v1/allocate bounds its own time (a job), but not the client's upload.
    let head = "POST /v1/allocate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{";
    tcp.write_all(head.as_bytes()).await.unwrap();
    let text = answer_to(tcp).await;
    assert!(text.starts_with("HTTP/1.1 408") && text.contains("/problems/body-timeout"), "{text}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_urls_and_headers_get_problems() {
    let db = TestDb::sqlite().await.unwrap();
    let app = boot(&db).await;
    let long = format!("/v1/search?q={}", "a".repeat(9_000));
    let r = app.http.get(app.url(&long)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::URI_TOO_LONG);
    assert!(is_problem(&r));
    let mut req = app.http.get(app.url("/v1/offers"));
    for i in 0..40 {
        req = req.header(format!("x-padding-{i}"), "p".repeat(1_000));
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(is_problem(&r));
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_need_a_json_content_type() {
    let db = TestDb::sqlite().await.unwrap();
    let app = boot(&db).await;
    let offer = r#"{"provider":"p","text":"bike","category":"bicycles","price":100}"#;
    for content_type in [None, Some("text/plain")] {
        let mut req = app.http.post(app.url("/v1/offers")).body(offer);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
        assert!(is_problem(&r));
    }
    assert_eq!(app.store.stats().await.unwrap().offers.values().sum::<i64>(), 0, "nothing stored");
    // An empty body needs no type where the body is optional.
    let (s, _) = app.post_empty("/v1/allocate").await;
    assert_eq!(s, StatusCode::OK);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_answer_201_with_location_fresh_and_replayed() {
    let db = TestDb::sqlite().await.unwrap();
    let app = boot(&db).await;
    let body = json!({"provider": "p", "text": "bike", "category": "bicycles", "price": 100});
    let mut locations = Vec::new();
    for _ in 0..2 {
        let r = app.http.post(app.url("/v1/offers")).header("idempotency-key", "k1").json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let created: Value = r.json().await.unwrap();
        assert_eq!(location, format!("/v1/offers/{}", created["id"]));
        locations.push(location);
    }
    assert_eq!(locations[0], locations[1], "the replay names the same resource");
    let (s, fetched) = app.get(&locations[0]).await;
    assert_eq!((s, fetched["text"].as_str()), (StatusCode::OK, Some("bike")));
    let r =
        app.http.post(app.url("/v1/demands")).json(&json!({"requester": "r", "text": "bike"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/v1/demands/"));
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inverted_price_ranges_and_bad_person_ids_are_problems() {
    let db = TestDb::sqlite().await.unwrap();
    let app = boot(&db).await;
    let r = app.http.get(app.url("/v1/search?q=bike&price_min=500&price_max=100")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "price_min");
    let r = app.http.get(app.url("/v1/users/%FF%FE/recommendations")).send().await.unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert!(is_problem(&r));
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_work_runs_as_a_job_named_by_its_idempotency_key() {
    for db in [Some(TestDb::sqlite().await.unwrap()), TestDb::postgres().await.unwrap()].into_iter().flatten() {
        let app = boot(&db).await;
        let start = || {
            app.http
                .post(app.url("/v1/allocate"))
                .header("prefer", "respond-async")
                .header("idempotency-key", "alloc-1")
                .json(&json!({"dry_run": true}))
        };
        let r = start().send().await.unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with("/v1/jobs/"), "{location}");
        let job: Value = r.json().await.unwrap();
        assert_eq!((job["kind"].as_str(), job["status"].as_str()), (Some("allocate"), Some("running")));
        let mut done = Value::Null;
        for _ in 0..200 {
            let (s, j) = app.get(&location).await;
            assert_eq!(s, StatusCode::OK);
            if j["status"] != "running" {
                done = j;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(done["status"], "succeeded", "{done}");
        assert_eq!(done["result"]["dry_run"], true);
        // The same key answers for the same job, now with its result.
        let r = start().send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-location"].to_str().unwrap(), location);
        assert_eq!(r.headers()["idempotent-replayed"], "true");
        let replay: Value = r.json().await.unwrap();
        assert_eq!(replay, done["result"]);
        // Without Prefer, the request waits for the result.
        let (s, report) = app.post("/v1/allocate", json!({"dry_run": true})).await;
        assert_eq!((s, report["dry_run"].as_bool()), (StatusCode::OK, Some(true)));
        // A failed job keeps its problem; the sync answer is that problem.
        let (s, problem) = app.post_empty("/v1/models/retrain?kind=recommender").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["type"], "/problems/training");
        let (s, missing) = app.get("/v1/jobs/999999").await;
        assert_eq!((s, missing["status"].as_u64()), (StatusCode::NOT_FOUND, Some(404)));
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_as_a_problem_when_the_database_is_gone() {
    let db = TestDb::sqlite().await.unwrap();
    let app = boot(&db).await;
    assert_eq!(app.get("/readyz").await.0, StatusCode::OK);
    db.store.close().await;
    let r = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(is_problem(&r));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "/problems/not-ready");
    // Liveness is still fine: the process answers.
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
}
