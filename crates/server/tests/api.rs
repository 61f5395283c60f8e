//! The HTTP API, booted as production boots it (Application on a random port)
//! against a fresh database: SQLite always, PostgreSQL when
//! `WANTLOOP_TEST_PG_URL` is set.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use wantloop_store::testing::TestDb;

mod common;

use common::{App, boot, fixture};

macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = super::TestDb::sqlite().await.unwrap();
                    super::$name(super::boot(&db).await).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = super::TestDb::postgres().await.unwrap() else { return };
                    super::$name(super::boot(&db).await).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

api_tests!(
    the_loop_over_http,
    illegal_transitions_are_409_and_change_nothing,
    bad_input_gets_problem_json_and_stores_nothing,
    idempotency_key_replays_the_first_response,
    lists_paginate_by_cursor_and_filter,
    openapi_covers_every_route,
    concurrent_match_requests_never_overbook,
    batch_allocation_proposes_the_optimum,
    who_could_serve_whom,
    health_and_readiness,
    low_confidence_demands_wait_for_review,
    activated_models_serve_without_restart,
    retraining_learns_from_review_labels,
    recommendations_exclude_own_consumed_and_unavailable_offers,
    cold_start_and_no_model_still_answer,
    interactions_reject_bad_input,
    search_follows_the_outbox,
    synonyms_are_checked_versioned_and_change_search,
    the_assistant_answers_refuses_and_keeps_questions,
);

async fn the_assistant_answers_refuses_and_keeps_questions(app: App) {
    // Import: the good entries saved, the bad line numbered.
    let text = "{\"entry\":\"expiry\",\"lang\":\"zh\",\"questions\":[\"提议的匹配多久失效？\",\"匹配多长时间会过期\"],\"answer\":\"48 小时。\"}\n\
                {\"entry\":\"bad\",\"lang\":\"fr\",\"questions\":[\"q\"],\"answer\":\"a\"}\n\
                {\"entry\":\"reject\",\"lang\":\"en\",\"questions\":[\"what happens if I reject a match?\"],\"answer\":\"The unit goes back to the offer.\"}\n";
    let (s, import) = app.post("/v1/faq/import", json!({"name": "faq.jsonl", "text": text})).await;
    assert_eq!(s, StatusCode::OK, "{import}");
    assert_eq!(import["saved"], 2);
    assert_eq!(import["errors"][0]["line"], 2, "{import}");

    let (s, a) = app.post("/v1/ask", json!({"question": "提议的匹配多久失效？"})).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(
        (a["answered"].as_bool(), a["answer"].as_str(), a["lang"].as_str()),
        (Some(true), Some("48 小时。"), Some("zh"))
    );
    assert_eq!(a["source"]["kind"], "faq");
    assert_eq!(a["source"]["key"], "expiry");
    let (_, a) = app.post("/v1/ask", json!({"question": "Who won the world cup?", "lang": "en"})).await;
    assert_eq!(
        (a["answered"].as_bool(), a["answer"].as_str()),
        (Some(false), Some("Sorry, I can't answer that.")),
        "{a}"
    );
    let kept = a["logged"].as_i64().expect("kept for the operator");

    // The closest entries, whatever the threshold, and nothing kept.
    let (s, closest) = app.post("/v1/faq/closest", json!({"question": "if I reject a match what happens"})).await;
    assert_eq!(s, StatusCode::OK, "{closest}");
    assert_eq!(closest[0]["key"], "reject", "{closest}");
    assert!(closest.as_array().unwrap().iter().all(|c| c["key"] != "expiry"), "other languages left out: {closest}");
    let (_, zh) = app.post("/v1/faq/closest", json!({"question": "匹配什么时候过期"})).await;
    assert_eq!(zh[0]["key"], "expiry", "{zh}");
    let (s, p) = app.post("/v1/faq/closest", json!({"question": "？"})).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("question")), "{p}");

    // The operator sees it and answers it.
    let (_, open) = app.get("/v1/ask/questions").await;
    assert_eq!(open["items"].as_array().unwrap().len(), 1, "/v1/faq/closest keeps nothing: {open}");
    assert!(open["items"].as_array().unwrap().iter().any(|q| q["id"] == kept), "{open}");
    let (_, entries) = app.get("/v1/faq").await;
    let reject = entries["items"].as_array().unwrap().iter().find(|e| e["key"] == "reject").unwrap()["id"].clone();
    let (s, resolved) = app.post(&format!("/v1/ask/questions/{kept}"), json!({"entry": reject})).await;
    assert_eq!(s, StatusCode::OK, "{resolved}");
    assert_eq!((&resolved["chosen_entry"], &resolved["phrasing_added"]), (&reject, &json!(true)), "{resolved}");
    let (_, entry) = app.get(&format!("/v1/faq/{reject}")).await;
    assert_eq!(entry["questions"][1], "Who won the world cup?", "the answer grew the entry: {entry}");
    let (_, done) = app.get("/v1/ask/questions?resolved=true").await;
    assert_eq!(done["items"][0]["chosen_entry"], reject);
    for body in [json!({"entry": 999999}), json!({"add_phrasing": false})] {
        let (s, p) = app.post(&format!("/v1/ask/questions/{kept}"), body).await;
        assert_eq!((s, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("entry")), "{p}");
    }
    // The scorer retrained on demand: two one-phrasing entries in two
    // languages give no pair of each label, which is a clear 422.
    let (s, r) = app.post_empty("/v1/models/retrain?kind=paraphrase").await;
    assert_eq!((s, r["type"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("/problems/training")), "{r}");

    // Corrected: no entry answers it; the phrasing leaves the entry.
    let (s, none) = app.post(&format!("/v1/ask/questions/{kept}"), json!({"entry": null})).await;
    assert_eq!((s, &none["chosen_entry"], &none["phrasing_added"]), (StatusCode::OK, &json!(null), &json!(false)));
    let (_, entry) = app.get(&format!("/v1/faq/{reject}")).await;
    assert_eq!(entry["questions"].as_array().unwrap().len(), 1, "{entry}");

    // Bad input: problem+json naming the field; nothing kept.
    for (body, field) in [
        (json!({"question": ""}), "question"),
        (json!({"question": "q".repeat(501)}), "question"),
        (json!({"question": "hi", "lang": "fr"}), "lang"),
    ] {
        let r = app.http.post(app.url("/v1/ask")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    let (s, p) =
        app.post("/v1/faq", json!({"entries": [{"entry": "x", "lang": "zh", "questions": [], "answer": "a"}]})).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("questions")), "{p}");

    // Facts for the graph: bad lines numbered, good ones answered.
    let (s, t) = app.post("/v1/graph/triples", json!({"text": "wantloop,许可证,Apache-2.0\nonly,two\n"})).await;
    assert_eq!((s, t["added"].as_i64(), t["errors"][0]["line"].as_i64()), (StatusCode::OK, Some(1), Some(2)), "{t}");
    let (_, a) = app.post("/v1/ask", json!({"question": "wantloop 的许可证是什么？"})).await;
    assert_eq!(
        (a["source"]["kind"].as_str(), a["answer"].as_str()),
        (Some("graph"), Some("wantloop的许可证是Apache-2.0。")),
        "{a}"
    );

    // Deleting an entry: gone, and a second delete is 404.
    let id = entries["items"][0]["id"].as_i64().unwrap();
    let r = app.http.delete(app.url(&format!("/v1/faq/{id}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.http.delete(app.url(&format!("/v1/faq/{id}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn synonyms_are_checked_versioned_and_change_search(app: App) {
    app.post("/v1/offers", offer_body("bob", "铝合金梯子", 100, 1)).await;
    let total = |q: &'static str| {
        let app = &app;
        async move { app.get(&format!("/v1/search?q={q}&kind=offer")).await.1["total"].as_i64().unwrap() }
    };
    // Search follows the outbox: wait until the offer is indexed.
    wait_until(|| async { total("%E6%A2%AF%E5%AD%90").await == 1 }).await; // 梯子
    assert_eq!(total("stepladder").await, 0);
    let put = |rules: &str| app.http.put(app.url("/v1/synonyms")).json(&json!({"rules": rules})).send();

    // A bad line: 422 naming the field and the line, nothing saved.
    let r = put("a, b\nlonely\n").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "rules", "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("line 2"), "{problem}");
    assert_eq!(app.get("/v1/synonyms").await.1["list"], Value::Null);

    // A one-way rule applies to search at once.
    let r = put("stepladder => 梯子\n").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let first: Value = r.json().await.unwrap();
    assert_eq!(total("stepladder").await, 1);
    let (_, expanded) = app.get("/v1/synonyms/expand?q=stepladder").await;
    assert_eq!(expanded["expansions"], json!(["梯子"]));
    let (_, in_force) = app.get("/v1/synonyms").await;
    assert_eq!(in_force["list"]["version"], first["version"]);
    assert_eq!(in_force["rules"].as_i64(), in_force["bundled_rules"].as_i64().map(|b| b + 1));

    // A new version replaces it; both are kept, newest first.
    let second: Value = put("").await.unwrap().json().await.unwrap();
    assert!(second["version"].as_i64() > first["version"].as_i64());
    assert_eq!(total("stepladder").await, 0, "no stale cached answer");
    let (_, versions) = app.get("/v1/synonyms/versions").await;
    assert_eq!(
        versions.as_array().unwrap().iter().map(|v| v["version"].clone()).collect::<Vec<_>>(),
        vec![second["version"].clone(), first["version"].clone()]
    );
    let (status, _) = app.get("/v1/synonyms/versions?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn offer_body(provider: &str, text: &str, price: i64, capacity: i64) -> Value {
    json!({"provider": provider, "text": text, "category": "bicycles", "price": price,
           "capacity": capacity, "location": {"lat": 30.28, "lon": 120.16}, "condition": "good"})
}

fn demand_body(requester: &str) -> Value {
    json!({"requester": requester, "text": "想买一台二手山地自行车，预算500元，在杭州",
           "budget": 50000, "location": {"lat": 30.27, "lon": 120.15}, "max_distance_km": 20})
}

async fn the_loop_over_http(app: App) {
    let (s, offer) = app.post("/v1/offers", offer_body("bob", "九成新山地自行车", 30000, 2)).await;
    assert_eq!(s, StatusCode::CREATED, "{offer}");
    let (s, demand) = app.post("/v1/demands", demand_body("alice")).await;
    assert_eq!(s, StatusCode::CREATED, "{demand}");
    // No category was given: the intake rules classified it.
    assert_eq!(demand["category"], "bicycles");
    assert_eq!(demand["category_source"], "classified");
    let id = demand["id"].as_i64().unwrap();

    let (s, proposal) = app.post_empty(&format!("/v1/demands/{id}/match")).await;
    assert_eq!(s, StatusCode::OK, "{proposal}");
    let m = &proposal["matches"][0];
    assert_eq!(m["offer_id"], offer["id"]);
    // Text relevance is BM25 from the search index, normalised by the query's
    // best score (token overlap would give this pair about a third).
    assert!((m["features"]["text"].as_f64().unwrap() - 1.0).abs() < 1e-9, "explained: {m}");
    let mid = m["id"].as_i64().unwrap();

    let (s, accepted) = app.post_empty(&format!("/v1/matches/{mid}/accept")).await;
    assert_eq!((s, accepted["status"].as_str()), (StatusCode::OK, Some("accepted")));
    let (s, fulfilled) =
        app.post(&format!("/v1/matches/{mid}/fulfil"), json!({"relist": {"condition": "fair", "price": 20000}})).await;
    assert_eq!(s, StatusCode::OK, "{fulfilled}");
    let relisted_id = fulfilled["relisted_offer_id"].as_i64().unwrap();
    let (_, relisted) = app.get(&format!("/v1/offers/{relisted_id}")).await;
    assert_eq!((relisted["provider"].as_str(), relisted["price"].as_i64()), (Some("alice"), Some(20000)));
    assert_eq!(relisted["origin_offer_id"], offer["id"]);
    let (_, d) = app.get(&format!("/v1/demands/{id}")).await;
    assert_eq!(d["status"], "fulfilled");

    let (s, events) = app.get("/v1/events?after=0&limit=100").await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<&str> = events["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["offer.created", "demand.created", "match.proposed", "match.accepted", "offer.relisted", "match.fulfilled"]
    );
    let cursor = events["next_cursor"].as_str().unwrap();
    let (_, rest) = app.get(&format!("/v1/events?after={cursor}")).await;
    assert!(rest["items"].as_array().unwrap().is_empty());
}

async fn illegal_transitions_are_409_and_change_nothing(app: App) {
    app.post("/v1/offers", offer_body("bob", "山地自行车", 100, 1)).await;
    let (_, d) = app.post("/v1/demands", demand_body("alice")).await;
    let (_, p) = app.post_empty(&format!("/v1/demands/{}/match", d["id"])).await;
    let mid = p["matches"][0]["id"].as_i64().unwrap();
    let before = app.get(&format!("/v1/matches/{mid}")).await.1;
    let (_, events_before) = app.get("/v1/events?limit=1000").await;
    let r = app.http.post(app.url(&format!("/v1/matches/{mid}/fulfil"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/illegal-transition");
    assert!(problem["detail"].as_str().unwrap().contains("proposed"), "{problem}");
    assert_eq!(app.get(&format!("/v1/matches/{mid}")).await.1, before);
    assert_eq!(app.get("/v1/events?limit=1000").await.1["items"], events_before["items"]);
    let (s, _) = app.post_empty("/v1/matches/999999/accept").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.post_empty(&format!("/v1/demands/{}/cancel", d["id"])).await;
    let (s, _) = app.post_empty(&format!("/v1/demands/{}/cancel", d["id"])).await;
    assert_eq!(s, StatusCode::CONFLICT);
}

async fn raw_post(app: &App, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, String, Value) {
    let r = app.http.post(app.url(path)).header("content-type", content_type).body(body).send().await.unwrap();
    let status = r.status();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, ct, r.json().await.unwrap_or(Value::Null))
}

async fn bad_input_gets_problem_json_and_stores_nothing(app: App) {
    let (_, d) = app.post("/v1/demands", demand_body("alice")).await;
    // The store's counts (the search index's counters move on their own).
    let store_stats = async || {
        let mut s = app.get("/v1/stats").await.1;
        s.as_object_mut().unwrap().remove("search");
        s
    };
    let stats_before = store_stats().await;
    let json_ct = "application/json";
    // (path, content type, body, expected status, field named in the problem)
    type Case = (&'static str, &'static str, Vec<u8>, StatusCode, Option<&'static str>);
    let cases: Vec<Case> = vec![
        ("/v1/demands", json_ct, b"{not json".to_vec(), StatusCode::BAD_REQUEST, None),
        ("/v1/demands", json_ct, br#"{"requester": "a", "text": 5}"#.to_vec(), StatusCode::BAD_REQUEST, Some("text")),
        (
            "/v1/demands",
            json_ct,
            b"{\"requester\": \"a\", \"text\": \"\xff\xfe\"}".to_vec(),
            StatusCode::BAD_REQUEST,
            Some("text"),
        ),
        (
            "/v1/demands",
            json_ct,
            br#"{"requester": "a", "text": "x", "budget": -1}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("budget"),
        ),
        (
            "/v1/demands",
            json_ct,
            br#"{"requester": "a", "text": "x", "location": {"lat": 95, "lon": 0}}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("location.lat"),
        ),
        (
            "/v1/demands",
            json_ct,
            br#"{"requester": "a", "text": "x", "quantity": 99999999999}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("quantity"),
        ),
        (
            "/v1/demands",
            json_ct,
            br#"{"requester": "a", "text": "x", "colour": "red"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            Some("colour"),
        ),
        (
            "/v1/demands",
            json_ct,
            br#"{"requester": "a", "text": "x", "priority": "asap"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("priority"),
        ),
        (
            "/v1/demands",
            "text/plain",
            br#"{"requester": "a", "text": "x"}"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ),
        ("/v1/demands", json_ct, vec![b' '; 70 * 1024], StatusCode::PAYLOAD_TOO_LARGE, None),
        (
            "/v1/offers",
            json_ct,
            br#"{"provider": "p", "text": "t", "category": "Not A Slug!", "price": 1}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("category"),
        ),
        ("/v1/offers", json_ct, br#"[1, 2]"#.to_vec(), StatusCode::BAD_REQUEST, None),
        ("/v1/matches/abc/accept", json_ct, Vec::new(), StatusCode::BAD_REQUEST, Some("id")),
        ("/v1/allocate", json_ct, br#"{"mode": "magic"}"#.to_vec(), StatusCode::BAD_REQUEST, Some("mode")),
    ];
    for (path, ct, body, status, field) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).to_string();
        let (s, content_type, problem) = raw_post(&app, path, ct, body).await;
        assert_eq!(s, status, "{path} {shown}: {problem}");
        assert_eq!(content_type, "application/problem+json", "{path} {shown}");
        assert_eq!(problem["status"], status.as_u16(), "{problem}");
        let named = problem["errors"].as_array().map_or(0, Vec::len);
        assert!(field.is_some() || named == 0, "{path} {shown}: no field is at fault, yet {problem}");
        if let Some(f) = field {
            let fields: Vec<&str> =
                problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
            assert!(fields.contains(&f), "{path} {shown}: expected field {f} in {problem}");
        }
    }
    for (path, status) in [
        ("/v1/demands?limit=0", StatusCode::BAD_REQUEST),
        ("/v1/demands?status=happy", StatusCode::UNPROCESSABLE_ENTITY),
        ("/v1/demands?cursor=-4", StatusCode::BAD_REQUEST),
        ("/v1/matches?demand_id=x", StatusCode::BAD_REQUEST),
        ("/v1/nowhere", StatusCode::NOT_FOUND),
        ("/v1/demands/0", StatusCode::BAD_REQUEST),
        ("/v1/demands/99999", StatusCode::NOT_FOUND),
        ("/v1/demands?limit=1&limit=2", StatusCode::BAD_REQUEST),
    ] {
        let r = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{path}");
    }
    let r = app.http.delete(app.url("/v1/demands")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // Nothing was stored, nothing was lost, and the server still answers.
    assert_eq!(store_stats().await, stats_before);
    assert_eq!(app.get(&format!("/v1/demands/{}", d["id"])).await.1, d);
}

async fn idempotency_key_replays_the_first_response(app: App) {
    let send = |key: &'static str, body: Value| {
        app.http.post(app.url("/v1/demands")).header("Idempotency-Key", key).json(&body).send()
    };
    let first = send("key-1", demand_body("alice")).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let second = send("key-1", demand_body("alice")).await.unwrap();
    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(second.json::<Value>().await.unwrap(), first);
    let (_, list) = app.get("/v1/demands").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let reused = send("key-1", demand_body("mallory")).await.unwrap();
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad_key = app
        .http
        .post(app.url("/v1/demands"))
        .header("Idempotency-Key", "")
        .json(&demand_body("a"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_key.status(), StatusCode::BAD_REQUEST);

    // Transitions are idempotent too: a repeated accept replays instead of failing with 409.
    app.post("/v1/offers", offer_body("bob", "山地自行车", 100, 1)).await;
    let (_, p) = app.post_empty(&format!("/v1/demands/{}/match", first["id"])).await;
    let mid = p["matches"][0]["id"].as_i64().unwrap();
    for _ in 0..2 {
        let r = app
            .http
            .post(app.url(&format!("/v1/matches/{mid}/accept")))
            .header("Idempotency-Key", "acc")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let (_, events) = app.get("/v1/events?limit=100").await;
    let accepted = events["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "match.accepted").count();
    assert_eq!(accepted, 1);
}

async fn lists_paginate_by_cursor_and_filter(app: App) {
    for i in 0..5 {
        app.post("/v1/offers", offer_body(&format!("p{i}"), "山地自行车", 100 * i, 1)).await;
    }
    let mut body = offer_body("z", "a desk", 100, 1);
    body["category"] = json!("furniture");
    app.post("/v1/offers", body).await;
    let (_, page1) = app.get("/v1/offers?category=bicycles&limit=2").await;
    let cursor = page1["next_cursor"].as_str().unwrap().to_string();
    let (_, page2) = app.get(&format!("/v1/offers?category=bicycles&limit=2&cursor={cursor}")).await;
    let (_, page3) = app
        .get(&format!("/v1/offers?category=bicycles&limit=2&cursor={}", page2["next_cursor"].as_str().unwrap()))
        .await;
    let ids: Vec<i64> = [&page1, &page2, &page3]
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()))
        .collect();
    assert_eq!(ids.len(), 5);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert!(page3["next_cursor"].is_null());
    let (_, furniture) = app.get("/v1/offers?category=furniture").await;
    assert_eq!(furniture["items"].as_array().unwrap().len(), 1);
}

/// The paths the router itself serves, read from its `Debug` form (axum
/// offers no other view of its routing table): its `RouteId(n): "/path"` entries.
fn router_paths() -> std::collections::BTreeSet<String> {
    let debug = format!("{:?}", wantloop_server::routes::bare_router());
    // Only the path router: axum's own fallback router follows it.
    let (routes, _) = debug.split_once("fallback_router").expect("axum's Router debug names its parts");
    let mut paths = std::collections::BTreeSet::new();
    for chunk in routes.split("RouteId(").skip(1) {
        if let Some((_, rest)) = chunk.split_once("): \"")
            && let Some((path, _)) = rest.split_once('"')
        {
            paths.insert(path.to_string());
        }
    }
    paths
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn openapi_covers_every_route(app: App) {
    let (s, doc) = app.get("/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let documented: std::collections::BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let served = router_paths();
    assert!(served.len() >= 30, "the router's paths were not read: {served:?}");
    assert_eq!(served, documented, "the router serves a path the document does not list, or the reverse");
    // On every path, exactly the documented methods are routed: any other
    // method is refused by the router itself (405), never by a handler.
    for path in &served {
        let url = app.url(&path.replace("{id}", "1").replace("{file}", "app.js"));
        for method in METHODS {
            let r = app.http.request(method.to_uppercase().parse().unwrap(), &url).send().await.unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            let routed = status != StatusCode::METHOD_NOT_ALLOWED && body["type"] != "/problems/no-route";
            assert_eq!(routed, doc["paths"][path][method].is_object(), "{method} {path}: {status} {body}");
        }
    }
}

async fn concurrent_match_requests_never_overbook(app: App) {
    let (_, offer) = app.post("/v1/offers", offer_body("bob", "山地自行车", 100, 10)).await;
    let mut ids = Vec::new();
    for i in 0..64 {
        ids.push(app.post("/v1/demands", demand_body(&format!("u{i}"))).await.1["id"].as_i64().unwrap());
    }
    let app = Arc::new(app);
    let tasks: Vec<_> = ids
        .into_iter()
        .map(|id| {
            let app = app.clone();
            tokio::spawn(async move {
                let (s, p) = app.post_empty(&format!("/v1/demands/{id}/match")).await;
                assert_eq!(s, StatusCode::OK, "{p}");
                p["matches"].as_array().unwrap().iter().map(|m| m["units"].as_i64().unwrap()).sum::<i64>()
            })
        })
        .collect();
    let mut granted = 0;
    for t in tasks {
        granted += t.await.unwrap();
    }
    assert_eq!(granted, 10);
    let (_, o) = app.get(&format!("/v1/offers/{}", offer["id"])).await;
    assert_eq!((o["reserved"].as_i64(), o["status"].as_str()), (Some(10), Some("exhausted")));
}

async fn batch_allocation_proposes_the_optimum(app: App) {
    app.post("/v1/offers", offer_body("bob", "山地自行车", 100, 2)).await;
    for i in 0..3 {
        app.post("/v1/demands", demand_body(&format!("u{i}"))).await;
    }
    let (s, dry) = app.post("/v1/allocate", json!({"dry_run": true})).await;
    assert_eq!(s, StatusCode::OK, "{dry}");
    assert_eq!((dry["planned_units"].as_i64(), dry["proposed_units"].as_i64()), (Some(2), Some(0)));
    assert!(app.get("/v1/matches").await.1["items"].as_array().unwrap().is_empty());
    let (_, run) = app.post_empty("/v1/allocate").await;
    assert_eq!((run["mode"].as_str(), run["proposed_units"].as_i64()), (Some("optimal"), Some(2)));
    let (_, again) = app.post_empty("/v1/allocate").await;
    assert_eq!(again["proposed_units"].as_i64(), Some(0), "nothing left to allocate");
}

async fn who_could_serve_whom(app: App) {
    let (_, near) = app.post("/v1/offers", offer_body("bob", "山地自行车 九成新", 20000, 1)).await;
    let mut far = offer_body("carol", "山地自行车", 20000, 1);
    far["location"] = json!({"lat": 31.23, "lon": 121.47});
    app.post("/v1/offers", far).await;
    let (_, own) = app.post("/v1/offers", offer_body("alice", "山地自行车", 100, 1)).await;
    let (_, d) = app.post("/v1/demands", demand_body("alice")).await;
    let (_, c) = app.get(&format!("/v1/demands/{}/candidates", d["id"])).await;
    let ids: Vec<&Value> = c.as_array().unwrap().iter().map(|x| &x["offer"]["id"]).collect();
    assert_eq!(ids, [&near["id"]], "only the near offer that is not alice's own: {c}");
    let (_, ds) = app.get(&format!("/v1/offers/{}/demands", near["id"])).await;
    assert_eq!(ds[0]["demand"]["id"], d["id"]);
    let (_, none) = app.get(&format!("/v1/offers/{}/demands", own["id"])).await;
    assert!(none.as_array().unwrap().is_empty());
}

async fn health_and_readiness(app: App) {
    let (s, h) = app.get("/healthz").await;
    assert_eq!((s, h["status"].as_str()), (StatusCode::OK, Some("ok")));
    assert_eq!(h["models"], json!([]), "no pretrained model is installed for the tests' app");
    let (s, r) = app.get("/readyz").await;
    assert_eq!((s, r["status"].as_str()), (StatusCode::OK, Some("ready")));
}

async fn low_confidence_demands_wait_for_review(app: App) {
    let (s, c) = app.post("/v1/classify", json!({"text": "need a ladder for the weekend"})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((c["category"].as_str(), c["source"].as_str()), (Some("tools"), Some("rules")));
    let (s, _) = app.post("/v1/classify", json!({"text": "   "})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    let (_, unsure) = app.post("/v1/demands", json!({"requester": "a", "text": "找人帮忙处理一件麻烦事"})).await;
    assert_eq!((unsure["needs_review"].as_bool(), unsure["category"].as_str()), (Some(true), Some("other")));
    let (_, sure) = app.post("/v1/demands", json!({"requester": "b", "text": "想买一台二手自行车"})).await;
    assert_eq!(sure["needs_review"], false);
    let (_, queue) = app.get("/v1/review/demands").await;
    let ids: Vec<&Value> = queue["items"].as_array().unwrap().iter().map(|d| &d["id"]).collect();
    assert_eq!(ids, [&unsure["id"]]);

    let path = format!("/v1/review/demands/{}", unsure["id"]);
    let (s, bad) = app.post(&path, json!({"category": "Not a slug"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let (s, reviewed) = app.post(&path, json!({"category": "home_services"})).await;
    assert_eq!(s, StatusCode::OK, "{reviewed}");
    assert_eq!(
        (reviewed["category"].as_str(), reviewed["category_source"].as_str()),
        (Some("home_services"), Some("operator"))
    );
    assert!(app.get("/v1/review/demands").await.1["items"].as_array().unwrap().is_empty());
    let labels = app.store.labels_after(0, 10).await.unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].label, "home_services");
}

fn trained(seed: u64, epochs: u32) -> wantloop_ml::Classifier {
    let data = wantloop_ml::classifier::read_file(&fixture("demands_train.tsv")).unwrap();
    let config = wantloop_ml::TrainConfig { seed, epochs, ..Default::default() };
    wantloop_ml::classifier::train(&data, None, &config, &mut |_, _| {}).unwrap().0
}

fn new_model(blob: Vec<u8>) -> wantloop_store::NewModel {
    wantloop_store::NewModel {
        kind: "classifier".into(),
        data_hash: "fixture".into(),
        metrics: json!({}),
        params: json!({}),
        blob,
    }
}

/// Polls `/v1/classify` until the answering source is `want` (or fails after 5 s).
async fn wait_for_source(app: &App, want: &str) {
    wait_until(|| async {
        app.post("/v1/classify", json!({"text": "想买一辆折叠自行车"})).await.1["source"] == want
    })
    .await;
}

async fn activated_models_serve_without_restart(app: App) {
    let v1 = app.store.register_model(&new_model(trained(1, 30).to_bytes())).await.unwrap();
    let v2 = app.store.register_model(&new_model(trained(2, 10).to_bytes())).await.unwrap();
    let junk = app.store.register_model(&new_model(b"not a model".to_vec())).await.unwrap();
    let (s, listed) = app.get("/v1/models?kind=classifier").await;
    assert_eq!((s, listed.as_array().unwrap().len()), (StatusCode::OK, 3));

    let (s, m) = app.post_empty(&format!("/v1/models/{}/activate", v1.id)).await;
    assert_eq!((s, m["active"].as_bool()), (StatusCode::OK, Some(true)));
    // This node serves the activated model at once.
    let (_, c) = app.post("/v1/classify", json!({"text": "想买一辆折叠自行车"})).await;
    assert_eq!((c["source"].as_str(), c["category"].as_str()), (Some("classifier v1"), Some("bicycles")));
    let (_, d) = app.post("/v1/demands", json!({"requester": "a", "text": "need a second-hand laptop"})).await;
    assert_eq!((d["category_model"].as_str(), d["category"].as_str()), (Some("classifier v1"), Some("electronics")));

    // Activated elsewhere (another node, the CLI): picked up by polling, no restart.
    app.store.activate_model(v2.id, None).await.unwrap();
    wait_for_source(&app, "classifier v2").await;
    // Rollback.
    app.post_empty(&format!("/v1/models/{}/activate", v1.id)).await;
    wait_for_source(&app, "classifier v1").await;

    // A model this build cannot load is refused and changes nothing.
    let (s, problem) = app.post_empty(&format!("/v1/models/{}/activate", junk.id)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(app.store.active_model("classifier").await.unwrap().unwrap().id, v1.id);
}

async fn retraining_learns_from_review_labels(app: App) {
    let (s, first) = app.post_empty("/v1/models/retrain").await;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert_eq!(
        (first["activated"].as_bool(), first["examples"].as_u64()),
        (Some(true), Some(169)),
        "the fixture's distinct examples"
    );
    assert!(first["score"].as_f64().unwrap() > 0.6, "{first}");
    wait_for_source(&app, "classifier v1").await;

    let (_, d) = app.post("/v1/demands", json!({"requester": "a", "text": "找人帮忙疏通下水道"})).await;
    app.post(&format!("/v1/review/demands/{}", d["id"]), json!({"category": "home_services"})).await;
    let (_, second) = app.post_empty("/v1/models/retrain").await;
    assert_eq!(second["examples"].as_u64(), Some(170), "{second}");
    assert_eq!(second["model"]["version"].as_i64(), Some(2));
    assert!(second["previous_score"].is_number());
    // The fixture's held-out tenth is far below the 200 a comparison needs, so
    // the new version is kept but does not replace the active one.
    assert_eq!(second["activated"], false, "{second}");
    let held_out = second["decision"]["comparison"]["held_out"].as_u64().unwrap();
    assert!(held_out < 200, "{second}");
    assert!(second["decision"]["reason"].as_str().unwrap().contains("needed to compare"), "{second}");
    assert_eq!(app.store.active_model("classifier").await.unwrap().unwrap().version, 1);
    let v2 = app.store.get_model(second["model"]["id"].as_i64().unwrap()).await.unwrap();
    assert!(v2.params["labels_up_to"].as_i64().is_some());
}

fn simple_offer(provider: &str, text: &str, category: &str, capacity: i64) -> Value {
    json!({"provider": provider, "text": text, "category": category, "price": 1000, "capacity": capacity,
           "location": {"lat": 30.28, "lon": 120.16}})
}

async fn create_offer(app: &App, provider: &str, text: &str, category: &str, capacity: i64) -> i64 {
    let (s, o) = app.post("/v1/offers", simple_offer(provider, text, category, capacity)).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    o["id"].as_i64().unwrap()
}

async fn interact(app: &App, user: &str, offers: &[i64]) {
    let batch: Vec<Value> = offers.iter().map(|o| json!({"user": user, "offer_id": o, "kind": "click"})).collect();
    let (s, body) = app.post("/v1/interactions", json!({ "interactions": batch })).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
}

async fn recommendations_exclude_own_consumed_and_unavailable_offers(app: App) {
    let mut books = Vec::new();
    for i in 0..8 {
        books.push(create_offer(&app, &format!("p{i}"), &format!("二手小说 第{i}册"), "books", 5).await);
    }
    let own = create_offer(&app, "alice", "alice's own novel", "books", 5).await;
    let consumed = create_offer(&app, "p9", "a novel alice received", "books", 5).await;
    let exhausted = create_offer(&app, "p10", "a novel with one copy", "books", 1).await;
    let withdrawn = create_offer(&app, "p11", "a novel soon withdrawn", "books", 5).await;
    let later_withdrawn = create_offer(&app, "p12", "a novel withdrawn after training", "books", 5).await;
    let popular = [own, consumed, exhausted, withdrawn, later_withdrawn];
    // Everyone likes the "popular" five and some books; alice shares their taste.
    for u in 0..12 {
        let mut liked: Vec<i64> = popular.to_vec();
        liked.extend(books.iter().skip(u % 4).step_by(2));
        interact(&app, &format!("u{u}"), &liked).await;
    }
    interact(&app, "alice", &[books[0], books[2]]).await;
    // alice receives `consumed` through a match.
    let (_, d) = app
        .post("/v1/demands", json!({"requester": "alice", "text": "a novel alice received", "category": "books"}))
        .await;
    let (_, p) = app.post_empty(&format!("/v1/demands/{}/match", d["id"])).await;
    let m = p["matches"].as_array().unwrap().iter().find(|m| m["offer_id"] == consumed).expect("matched").clone();
    app.post_empty(&format!("/v1/matches/{}/accept", m["id"])).await;
    app.post_empty(&format!("/v1/matches/{}/fulfil", m["id"])).await;
    // bob takes the one copy of `exhausted`.
    let (_, d) = app
        .post("/v1/demands", json!({"requester": "bob", "text": "a novel with one copy", "category": "books"}))
        .await;
    let (_, p) = app.post_empty(&format!("/v1/demands/{}/match", d["id"])).await;
    assert!(p["matches"].as_array().unwrap().iter().any(|m| m["offer_id"] == exhausted), "{p}");
    app.post_empty(&format!("/v1/offers/{withdrawn}/withdraw")).await;

    let (s, outcome) = app.post_empty("/v1/models/retrain?kind=recommender").await;
    assert_eq!(s, StatusCode::OK, "{outcome}");
    assert_eq!((outcome["activated"].as_bool(), outcome["metric"].as_str()), (Some(true), Some("ndcg@10")));
    wait_until(|| async { app.get("/v1/users/alice/recommendations").await.1["model"].is_string() }).await;
    // Withdrawn after training: still excluded, because state is checked when serving.
    app.post_empty(&format!("/v1/offers/{later_withdrawn}/withdraw")).await;

    let (s, recs) = app.get("/v1/users/alice/recommendations?k=50").await;
    assert_eq!(s, StatusCode::OK, "{recs}");
    assert_eq!(recs["model"], "recommender v1");
    let items = recs["items"].as_array().unwrap();
    let ids: Vec<i64> = items.iter().map(|r| r["offer"]["id"].as_i64().unwrap()).collect();
    for banned in popular {
        assert!(!ids.contains(&banned), "offer {banned} must not be recommended to alice: {ids:?}");
    }
    assert!(items.iter().any(|r| r["source"] == "model"), "{recs}");
    assert!(!ids.is_empty() && ids.iter().all(|id| books.contains(id)), "{ids:?}");
    let unique: std::collections::HashSet<&i64> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());

    // carol was not in the training data: her first interactions after it are
    // enough for the model to answer her (scored from her history, no retraining).
    interact(&app, "carol", &[books[1], books[3]]).await;
    let (_, recs) = app.get("/v1/users/carol/recommendations?k=5").await;
    let items = recs["items"].as_array().unwrap();
    assert_eq!(items[0]["source"], "model", "{recs}");
    assert!(items.iter().all(|r| ![books[1], books[3]].contains(&r["offer"]["id"].as_i64().unwrap())), "{recs}");

    let (_, similar) = app.get(&format!("/v1/offers/{}/similar?k=5", books[0])).await;
    let sim: Vec<i64> = similar.as_array().unwrap().iter().map(|r| r["offer"]["id"].as_i64().unwrap()).collect();
    assert!(!sim.contains(&books[0]) && !sim.contains(&withdrawn) && !sim.is_empty(), "{similar}");
}

async fn wait_until<F, Fut>(check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition never became true");
}

async fn cold_start_and_no_model_still_answer(app: App) {
    let tool = create_offer(&app, "p1", "电钻 九成新", "tools", 3).await;
    let ladder = create_offer(&app, "p2", "梯子 可借", "tools", 3).await;
    let book = create_offer(&app, "p3", "英语词典", "books", 3).await;
    // No interactions and no model: a person with a demand gets content matches.
    app.post("/v1/demands", json!({"requester": "newbie", "text": "想借一个电钻", "category": "tools"})).await;
    let (s, recs) = app.get("/v1/users/newbie/recommendations?k=2").await;
    assert_eq!(s, StatusCode::OK, "{recs}");
    assert!(recs["model"].is_null());
    let items = recs["items"].as_array().unwrap();
    assert_eq!(items[0]["offer"]["id"], tool, "{recs}");
    assert_eq!(items[0]["source"], "content");
    // A stranger gets the newest offers; with interactions, the popular ones first.
    let (_, fresh) = app.get("/v1/users/stranger/recommendations").await;
    assert_eq!(fresh["items"].as_array().unwrap().len(), 3);
    assert!(fresh["items"].as_array().unwrap().iter().all(|r| r["source"] == "fresh"));
    interact(&app, "u1", &[ladder, book]).await;
    interact(&app, "u2", &[ladder]).await;
    let (_, popular) = app.get("/v1/users/stranger/recommendations?k=3").await;
    let first = &popular["items"][0];
    assert_eq!((first["offer"]["id"].as_i64(), first["source"].as_str()), (Some(ladder), Some("popular-recent")));
    // Category filter and diversity cap.
    let (_, only_books) = app.get("/v1/users/stranger/recommendations?category=books").await;
    let cats: Vec<&str> =
        only_books["items"].as_array().unwrap().iter().map(|r| r["offer"]["category"].as_str().unwrap()).collect();
    assert_eq!(cats, ["books"]);
    let (_, diverse) = app.get("/v1/users/stranger/recommendations?per_category=1").await;
    assert_eq!(diverse["items"].as_array().unwrap().len(), 2, "{diverse}");
    // Similar offers without a model: same category, by text.
    let (_, similar) = app.get(&format!("/v1/offers/{tool}/similar")).await;
    assert_eq!(similar[0]["offer"]["id"], ladder);
    assert_eq!(similar[0]["source"], "content");
}

async fn interactions_reject_bad_input(app: App) {
    let offer = create_offer(&app, "p1", "电钻", "tools", 1).await;
    let (s, problem) = app
        .post(
            "/v1/interactions",
            json!({"interactions": [{"user": "u", "offer_id": offer, "kind": "view"}, {"user": "u", "offer_id": offer, "kind": "rate"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "interactions[1].value");
    let (s, _) = app.post("/v1/interactions", json!({"user": "u", "offer_id": 424242, "kind": "view"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.post("/v1/interactions", json!({"interactions": []})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, one) =
        app.post("/v1/interactions", json!({"user": "u", "offer_id": offer, "kind": "rate", "value": 4})).await;
    assert_eq!((s, one[0]["value"].as_f64()), (StatusCode::CREATED, Some(4.0)));
    assert_eq!(app.get("/v1/users/u/recommendations?k=0").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(app.post_empty("/v1/models/retrain?kind=recommender").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.post_empty("/v1/models/retrain?kind=nonsense").await.0, StatusCode::BAD_REQUEST);
}

async fn search_follows_the_outbox(app: App) {
    let bike = create_offer(&app, "p1", "待处理的二手山地自行车", "bicycles", 1).await;
    let desk = create_offer(&app, "p2", "宜家书桌 安装简单", "furniture", 1).await;
    let road = create_offer(&app, "p3", "Road bike, carbon frame", "bicycles", 1).await;
    app.post("/v1/demands", json!({"requester": "u", "text": "想买自行车", "category": "bicycles"})).await;
    let found = |q: &'static str| {
        let app = &app;
        async move {
            let (_, r) = app.get(&format!("/v1/search?q={}&kind=offer", q)).await;
            r["hits"]
                .as_array()
                .map(|h| h.iter().map(|x| x["id"].as_i64().unwrap()).collect::<Vec<_>>())
                .unwrap_or_default()
        }
    };
    // The demand was posted last: once it is searchable, everything before it is indexed.
    wait_until(|| async {
        let (_, demands) = app.get("/v1/search?q=%E8%87%AA%E8%A1%8C%E8%BD%A6&kind=demand").await;
        demands["hits"][0]["kind"] == "demand"
    })
    .await;
    assert_eq!(found("%E7%AE%80%E5%8D%95").await, vec![desk]); // 简单
    assert_eq!(found("%E5%A4%84%E7%90%86").await, vec![bike]); // 处理 finds 待处理
    let (s, r) = app.get("/v1/search?q=bike%20OR%20%E8%87%AA%E8%A1%8C%E8%BD%A6&kind=offer&limit=1").await; // bike OR 自行车
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!((r["total"].as_u64(), r["hits"].as_array().unwrap().len()), (Some(2), 1));
    assert_eq!(r["facets"]["bicycles"], 2);
    let (_, page2) = app
        .get(&format!(
            "/v1/search?q=bike%20OR%20%E8%87%AA%E8%A1%8C%E8%BD%A6&kind=offer&limit=1&cursor={}",
            r["next_cursor"].as_str().unwrap()
        ))
        .await;
    let both: Vec<i64> = [&r, &page2].iter().map(|p| p["hits"][0]["id"].as_i64().unwrap()).collect();
    assert!(both.contains(&bike) && both.contains(&road), "{both:?}");
    let (_, cheap) = app.get("/v1/search?category=bicycles&price_max=500&kind=offer").await;
    let cheap_ids: Vec<i64> = cheap["hits"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect();
    assert_eq!(cheap_ids, Vec::<i64>::new(), "prices are 1000: {cheap}");

    // A withdrawal reaches the index through the outbox.
    app.post_empty(&format!("/v1/offers/{desk}/withdraw")).await;
    wait_until(|| async {
        let (_, r) = app.get("/v1/search?q=%E4%B9%A6%E6%A1%8C&status=available").await;
        r["total"] == 0
    })
    .await;

    // Any text is searched as text; only paging past the ranking depth is refused.
    assert_eq!(app.get("/v1/search?q=%22unclosed").await.0, StatusCode::OK);
    assert_eq!(app.get("/v1/search?q=a%3Ab%20(c").await.0, StatusCode::OK);
    let (s, problem) = app.get("/v1/search?q=bike&cursor=100000000000").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "cursor");
    assert_eq!(app.get("/v1/search?near=91,0").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/v1/search?kind=person").await.0, StatusCode::BAD_REQUEST);
    let (_, stats) = app.get("/v1/stats").await;
    assert!(stats["search"]["cache_misses"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["search"]["cursor"].as_i64().unwrap() > 0);
}
