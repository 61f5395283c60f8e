//! API keys and roles, attacked from the outside: every route of the OpenAPI
//! document (which the router is built from) × every kind of caller, each on
//! fresh rows of its own party or of another's. A refused request must answer
//! 401 or 403 as problem+json and change nothing; an admitted one must succeed.
//! The expected table below is written out here, independently of the roles
//! the handlers declare, so a route that opens or closes by mistake fails.

mod common;

use std::sync::Arc;

use common::{App, boot_as, fixture};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wantloop_core::{FeatureScores, KeyInput};
use wantloop_server::{Access, Application, Limits};
use wantloop_store::testing::TestDb;
use wantloop_store::{ImageOwner, NewImage, NewMatch, Page, Store};

/// Who calls. `Bob` provides the fixture's offer and `Alice` requested its
/// demand; `Zed` and `Yan` are a provider and a user of other parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Nobody,
    Malformed,
    Revoked,
    Admin,
    Service,
    Bob,
    Zed,
    Alice,
    Yan,
}

const EVERYONE: [Who; 9] =
    [Who::Nobody, Who::Malformed, Who::Revoked, Who::Admin, Who::Service, Who::Bob, Who::Zed, Who::Alice, Who::Yan];
const KEYED: &[Who] = &[Who::Admin, Who::Service, Who::Bob, Who::Zed, Who::Alice, Who::Yan];
const REQUESTER: &[Who] = &[Who::Admin, Who::Service, Who::Alice];
const PROVIDER: &[Who] = &[Who::Admin, Who::Service, Who::Bob];
const IN_MATCH: &[Who] = &[Who::Admin, Who::Service, Who::Alice, Who::Bob];
const ADMIN: &[Who] = &[Who::Admin];

/// Who may call each operation: `None` for anyone, even without a key.
fn may(method: &str, path: &str) -> Option<&'static [Who]> {
    let who = match (method, path) {
        ("get", "/healthz" | "/readyz" | "/openapi.json" | "/ui" | "/ui/{file}") => return None,
        ("post", "/v1/demands") => REQUESTER,
        ("get", "/v1/demands" | "/v1/demands/{id}") => KEYED,
        ("post", "/v1/demands/{id}/cancel" | "/v1/demands/{id}/match") => REQUESTER,
        ("get", "/v1/demands/{id}/candidates") => REQUESTER,
        ("post", "/v1/offers") => PROVIDER,
        ("get", "/v1/offers" | "/v1/offers/{id}" | "/v1/offers/{id}/similar") => KEYED,
        // Alice is no provider of Bob's offer (a user withdraws only her relisted items).
        ("post", "/v1/offers/{id}/withdraw") => PROVIDER,
        ("get", "/v1/offers/{id}/demands") => PROVIDER,
        // Listing is open to every key, cut to the caller's own matches.
        ("get", "/v1/matches") => KEYED,
        ("get", "/v1/matches/{id}") => IN_MATCH,
        ("post", "/v1/matches/{id}/accept") => REQUESTER,
        ("post", "/v1/matches/{id}/reject" | "/v1/matches/{id}/fulfil") => IN_MATCH,
        ("get", "/v1/search" | "/v1/stats" | "/v1/stats/matches" | "/v1/me") => KEYED,
        ("post", "/v1/classify") => KEYED,
        ("post", "/v1/interactions") => REQUESTER,
        ("get", "/v1/users/{id}/recommendations") => REQUESTER,
        ("get", "/v1/review/demands") | ("post", "/v1/review/demands/{id}") => ADMIN,
        ("get", "/v1/models") | ("post", "/v1/models/{id}/activate" | "/v1/models/retrain") => ADMIN,
        ("get", "/v1/events" | "/v1/cluster") | ("post", "/v1/allocate") => ADMIN,
        // Alice started the fixture's job.
        ("get", "/v1/jobs/{id}") => REQUESTER,
        ("get", "/metrics") => &[Who::Admin, Who::Service],
        ("get" | "post", "/v1/keys") | ("post", "/v1/keys/{id}/revoke") => ADMIN,
        ("post", "/v1/offers/{id}/images") | ("delete", "/v1/offers/{id}/images/{position}") => PROVIDER,
        ("get", "/v1/offers/{id}/images" | "/v1/offers/{id}/images/{position}") => KEYED,
        ("post", "/v1/demands/{id}/images") => REQUESTER,
        ("get", "/v1/demands/{id}/images" | "/v1/demands/{id}/images/{position}") => REQUESTER,
        ("delete", "/v1/demands/{id}/images/{position}") => REQUESTER,
        ("post", "/v1/search/image") => KEYED,
        ("get", "/v1/synonyms" | "/v1/synonyms/versions" | "/v1/synonyms/expand") | ("put", "/v1/synonyms") => ADMIN,
        ("post", "/v1/ask") => KEYED,
        ("get" | "post", "/v1/faq")
        | ("get" | "delete", "/v1/faq/{id}")
        | ("post", "/v1/faq/import" | "/v1/faq/closest") => ADMIN,
        ("get", "/v1/ask/questions") | ("post", "/v1/ask/questions/{id}" | "/v1/graph/triples") => ADMIN,
        _ => panic!("{method} {path} is not in the access matrix: add who may call it"),
    };
    Some(who)
}

struct Keys {
    tokens: Vec<(Who, String)>,
    alice_key: i64,
}

impl Keys {
    fn token(&self, who: Who) -> Option<&str> {
        self.tokens.iter().find(|(w, _)| *w == who).map(|(_, t)| t.as_str())
    }
}

async fn make_keys(store: &dyn Store) -> Keys {
    let mut tokens = Vec::new();
    let mut alice_key = 0;
    let specs = [
        (Who::Admin, "admin", None),
        (Who::Service, "service", None),
        (Who::Bob, "provider", Some("bob")),
        (Who::Zed, "provider", Some("zed")),
        (Who::Alice, "user", Some("alice")),
        (Who::Yan, "user", Some("yan")),
        (Who::Revoked, "admin", None),
    ];
    for (who, role, party) in specs {
        let input = KeyInput { role: role.into(), party: party.map(Into::into), name: Some(format!("{who:?}")) };
        let (key, token) = store.create_key(&input.parse().unwrap()).await.unwrap();
        if who == Who::Revoked {
            store.revoke_key(key.id).await.unwrap();
        }
        if who == Who::Alice {
            alice_key = key.id;
        }
        tokens.push((who, token));
    }
    tokens.push((Who::Malformed, "not-a-key".into()));
    Keys { tokens, alice_key }
}

/// Fresh rows for one request: Alice's demand (two units) and Bob's offer,
/// both with exact places, a proposed match between them (accepted first
/// when the request fulfils it), a job Alice started, a spare key.
struct Rows {
    demand: i64,
    offer: i64,
    matched: i64,
    job: i64,
    model: i64,
    spare_key: i64,
    faq: i64,
    asked: i64,
}

async fn make_rows(app: &App, keys: &Keys, model: i64, accepted: bool) -> Rows {
    let input = wantloop_core::DemandInput {
        requester: "alice".into(),
        text: "想买一辆二手自行车".into(),
        category: Some("bicycles".into()),
        budget: Some(80_000),
        quantity: Some(2),
        location: Some(wantloop_core::demand::LocationInput { lat: 30.2741, lon: 120.1551 }),
        ..Default::default()
    };
    // In the review queue too, for the review routes.
    let class =
        wantloop_store::Classification { needs_review: true, ..wantloop_store::Classification::given("bicycles") };
    let d = app.store.create_demand(&input.parse().unwrap(), &class, None).await.unwrap().done().unwrap();
    let offer = wantloop_core::OfferInput {
        provider: "bob".into(),
        text: "九成新山地自行车".into(),
        category: "bicycles".into(),
        price: 30_000,
        capacity: Some(5),
        location: Some(wantloop_core::demand::LocationInput { lat: 30.2811, lon: 120.1622 }),
        ..Default::default()
    };
    let o = app.store.create_offer(&offer.parse().unwrap(), None).await.unwrap().done().unwrap();
    // An image on each, for the image routes (position 1).
    for (owner, owner_id) in [(ImageOwner::Offer, o.id), (ImageOwner::Demand, d.id)] {
        let image = NewImage {
            owner,
            owner_id,
            content_type: "image/png".into(),
            width: 2,
            height: 2,
            sha256: "fixture".into(),
            features: "fixture".into(),
            vector: vec![1.0],
            original: tiny_png(),
            thumbnail: tiny_png(),
        };
        app.store.add_image(&image, 8).await.unwrap();
    }
    let demand = d.id;
    let proposal = NewMatch { offer_id: o.id, units: 1, score: 0.5, features: FeatureScores::default(), ttl_ms: None };
    let p = app.store.propose_matches(demand, &[proposal], None).await.unwrap().done().unwrap();
    let matched = p.matches[0].id;
    if accepted {
        app.store.transition_match(matched, wantloop_core::MatchTransition::Accept, None, None).await.unwrap();
    }
    let job = wantloop_store::actor::acting_as(Some(keys.alice_key), app.store.create_job("match", None))
        .await
        .unwrap()
        .done()
        .unwrap()
        .id;
    let spare = KeyInput { role: "user".into(), party: Some("spare".into()), name: None };
    let spare_key = app.store.create_key(&spare.parse().unwrap()).await.unwrap().0.id;
    let entry = wantloop_store::NewFaqEntry {
        key: format!("fixture-{demand}"),
        lang: "zh".into(),
        questions: vec!["怎么发布需求？".into()],
        answer: "用 POST /v1/demands。".into(),
    };
    let faq = app.store.save_faq_entries(&[entry]).await.unwrap()[0].id;
    let question = wantloop_store::NewAskedQuestion {
        question: "天气怎么样".into(),
        lang: "zh".into(),
        outcome: "refused".into(),
        confidence: 0.0,
        best_entry: None,
    };
    let asked = app.store.log_question(&question).await.unwrap().id;
    Rows { demand, offer: o.id, matched, job, model, spare_key, faq, asked }
}

/// The request a caller sends to `method path` over `rows`: always about
/// Alice's and Bob's rows, so only the caller's key differs between cases.
fn request(method: &str, path: &str, r: &Rows) -> (Method, String, Option<Value>) {
    let id = match path {
        p if p.starts_with("/v1/demands/") || p.starts_with("/v1/review/demands/") => r.demand.to_string(),
        p if p.starts_with("/v1/offers/") => r.offer.to_string(),
        p if p.starts_with("/v1/matches/") => r.matched.to_string(),
        p if p.starts_with("/v1/jobs/") => r.job.to_string(),
        p if p.starts_with("/v1/models/") => r.model.to_string(),
        p if p.starts_with("/v1/keys/") => r.spare_key.to_string(),
        p if p.starts_with("/v1/users/") => "alice".into(),
        p if p.starts_with("/v1/faq/") => r.faq.to_string(),
        p if p.starts_with("/v1/ask/questions/") => r.asked.to_string(),
        p if p.starts_with("/ui/") => "app.js".into(),
        _ => String::new(),
    };
    let mut url = path.replace("{id}", &id).replace("{file}", &id).replace("{position}", "1");
    let body = match (method, path) {
        ("post", "/v1/demands") => Some(json!({"requester": "alice", "text": "想借一个电钻", "category": "tools"})),
        ("post", "/v1/offers") => {
            Some(json!({"provider": "bob", "text": "电钻 出租", "category": "tools", "price": 500}))
        }
        ("post", "/v1/interactions") => Some(json!({"user": "alice", "offer_id": r.offer, "kind": "view"})),
        ("post", "/v1/classify") => Some(json!({"text": "想买一辆折叠自行车"})),
        ("post", "/v1/review/demands/{id}") => Some(json!({"category": "bicycles"})),
        ("post", "/v1/keys") => Some(json!({"role": "user", "party": "carol"})),
        ("put", "/v1/synonyms") => Some(json!({"rules": "单车, 自行车"})),
        ("post", "/v1/ask" | "/v1/faq/closest") => Some(json!({"question": "怎么发布需求？"})),
        ("post", "/v1/faq") => Some(
            json!({"entries": [{"entry": "post", "lang": "en", "questions": ["how to post?"], "answer": "POST /v1/demands."}]}),
        ),
        ("post", "/v1/faq/import") => {
            Some(json!({"name": "faq.csv", "text": "entry,lang,question,answer\nx,en,q?,a.\n"}))
        }
        ("post", "/v1/ask/questions/{id}") => Some(json!({"entry": r.faq})),
        ("post", "/v1/graph/triples") => Some(json!({"text": "wantloop,license,Apache-2.0"})),
        _ => None,
    };
    match path {
        "/v1/search" => url.push_str("?q=自行车"),
        "/v1/models/retrain" => url.push_str("?kind=classifier"),
        _ => {}
    }
    let method = match method {
        "get" => Method::GET,
        "delete" => Method::DELETE,
        "put" => Method::PUT,
        _ => Method::POST,
    };
    (method, url, body)
}

/// A 2 × 2 PNG.
fn tiny_png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(2, 2, image::Rgb([200, 40, 40])).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// What a refused request must leave as it was.
async fn snapshot(store: &dyn Store) -> Value {
    json!({
        "last_event": store.last_event_id().await.unwrap(),
        "stats": store.stats().await.unwrap(),
        "keys": store.list_keys().await.unwrap(),
        "interactions": store.user_interactions("alice", 1000).await.unwrap().len(),
        "models": store.list_models(None).await.unwrap(),
        "matches": store.list_matches(&Default::default(), Page::first(1000)).await.unwrap(),
    })
}

/// The app with keys required (and no rate limit: one client sends every
/// case), on a fresh database, with a key for each caller. Keep the database
/// for the test's length.
async fn keyed_app() -> (TestDb, App, Keys) {
    let db = TestDb::sqlite().await.unwrap();
    let app = boot_as(&db, Limits { rate_per_second: 0, ..Limits::default() }, Access::Keys).await;
    let keys = make_keys(app.store.as_ref()).await;
    (db, app, keys)
}

async fn send(app: &App, token: Option<&str>, method: Method, url: &str, body: Option<Value>) -> reqwest::Response {
    // The image routes take an image as the body.
    let image_upload = method == Method::POST && (url.ends_with("/images") || url.starts_with("/v1/search/image"));
    let mut req = app.http.request(method, app.url(url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if url.starts_with("/v1/allocate") || url.starts_with("/v1/models/retrain") {
        req = req.header("Prefer", "respond-async");
    }
    if image_upload {
        req = req.header("content-type", "image/png").body(tiny_png());
    } else if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_by_every_caller_on_own_and_other_rows() {
    let (_db, app, keys) = keyed_app().await;
    let model = app.store.register_model(&trained_model()).await.unwrap().id;
    let doc = wantloop_server::routes::openapi();
    let mut cases = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let allowed = may(method, path);
            for who in EVERYONE {
                let rows = make_rows(&app, &keys, model, path.ends_with("/fulfil")).await;
                let (m, url, body) = request(method, path, &rows);
                let before = snapshot(app.store.as_ref()).await;
                let resp = send(&app, keys.token(who), m, &url, body).await;
                let status = resp.status();
                let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
                let text = resp.text().await.unwrap();
                let case = format!("{who:?} {method} {url}: {status} {text}");
                match allowed {
                    Some(admitted) if !admitted.contains(&who) => {
                        let want = if KEYED.contains(&who) { StatusCode::FORBIDDEN } else { StatusCode::UNAUTHORIZED };
                        assert_eq!(status, want, "{case}");
                        assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{case}");
                        let problem: Value = serde_json::from_str(&text).unwrap();
                        assert_eq!(problem["status"], want.as_u16(), "{case}");
                        let after = snapshot(app.store.as_ref()).await;
                        let changed: Vec<&String> = before
                            .as_object()
                            .unwrap()
                            .iter()
                            .filter(|(k, v)| after[k.as_str()] != **v)
                            .map(|(k, _)| k)
                            .collect();
                        assert!(changed.is_empty(), "a refused request changed {changed:?}: {case}");
                    }
                    _ => {
                        assert!(status.is_success(), "{case}");
                        // Work it left running (an allocation, a retrain) ends
                        // before the next case takes its snapshot.
                        if status == StatusCode::ACCEPTED {
                            let job: Value = serde_json::from_str(&text).unwrap();
                            wait_for_job(&app, keys.token(Who::Admin).unwrap(), job["id"].as_i64().unwrap()).await;
                        }
                    }
                }
                cases += 1;
            }
        }
    }
    assert!(cases >= 35 * EVERYONE.len(), "{cases} cases: the document lost routes");
}

async fn wait_for_job(app: &App, admin: &str, id: i64) {
    for _ in 0..600 {
        let job = get_as(app, admin, &format!("/v1/jobs/{id}")).await;
        if job["status"] != "running" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job {id} did not end within 30 s");
}

fn trained_model() -> wantloop_store::NewModel {
    let data = wantloop_ml::classifier::read_file(&fixture("demands_train.tsv")).unwrap();
    let config = wantloop_ml::TrainConfig { epochs: 5, ..Default::default() };
    let model = wantloop_ml::classifier::train(&data, None, &config, &mut |_, _| {}).unwrap().0;
    wantloop_store::NewModel {
        kind: "classifier".into(),
        data_hash: "fixture".into(),
        metrics: json!({}),
        params: json!({}),
        blob: model.to_bytes(),
    }
}

async fn get_as(app: &App, token: &str, url: &str) -> Value {
    let resp = send(app, Some(token), Method::GET, url, None).await;
    assert_eq!(resp.status(), StatusCode::OK, "{url}");
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn others_see_coarse_places_and_only_their_own_matches() {
    let (_db, app, keys) = keyed_app().await;
    let rows = make_rows(&app, &keys, 0, false).await;
    let (alice, yan, bob, zed) = (
        keys.token(Who::Alice).unwrap(),
        keys.token(Who::Yan).unwrap(),
        keys.token(Who::Bob).unwrap(),
        keys.token(Who::Zed).unwrap(),
    );
    let demand = format!("/v1/demands/{}", rows.demand);
    assert_eq!(get_as(&app, alice, &demand).await["location"], json!({"lat": 30.2741, "lon": 120.1551}));
    assert_eq!(get_as(&app, keys.token(Who::Admin).unwrap(), &demand).await["location"]["lat"], 30.2741);
    assert_eq!(get_as(&app, yan, &demand).await["location"], json!({"lat": 30.3, "lon": 120.2}));
    let listed = get_as(&app, bob, "/v1/demands").await;
    assert_eq!(listed["items"][0]["location"], json!({"lat": 30.3, "lon": 120.2}));
    let offer = format!("/v1/offers/{}", rows.offer);
    assert_eq!(get_as(&app, bob, &offer).await["location"], json!({"lat": 30.2811, "lon": 120.1622}));
    assert_eq!(get_as(&app, zed, &offer).await["location"], json!({"lat": 30.3, "lon": 120.2}));
    assert_eq!(get_as(&app, alice, "/v1/offers").await["items"][0]["location"], json!({"lat": 30.3, "lon": 120.2}));
    // Bob, looking for demands his offer can serve, sees Alice's place coarsely.
    let wanted = get_as(&app, bob, &format!("/v1/offers/{}/demands", rows.offer)).await;
    assert_eq!(wanted[0]["demand"]["location"], json!({"lat": 30.3, "lon": 120.2}), "{wanted}");
    // Alice's candidates show Bob's offer coarsely.
    let candidates = get_as(&app, alice, &format!("/v1/demands/{}/candidates", rows.demand)).await;
    assert_eq!(candidates[0]["offer"]["location"], json!({"lat": 30.3, "lon": 120.2}), "{candidates}");
    assert_eq!(candidates[0]["features"]["distance_km"], 1.0, "whole kilometres: {candidates}");
    let exact = get_as(&app, keys.token(Who::Admin).unwrap(), &format!("/v1/demands/{}/candidates", rows.demand)).await;
    assert!(exact[0]["features"]["distance_km"].as_f64().unwrap() != 1.0, "{exact}");

    let ids = |v: Value| v["items"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(ids(get_as(&app, alice, "/v1/matches").await), vec![rows.matched]);
    assert_eq!(ids(get_as(&app, bob, "/v1/matches").await), vec![rows.matched]);
    assert!(ids(get_as(&app, yan, "/v1/matches").await).is_empty());
    assert!(ids(get_as(&app, zed, &format!("/v1/matches?demand_id={}", rows.demand)).await).is_empty());
    assert_eq!(ids(get_as(&app, keys.token(Who::Service).unwrap(), "/v1/matches").await), vec![rows.matched]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_names_its_key_and_a_revoked_key_stops_at_once() {
    let (_db, app, keys) = keyed_app().await;
    let admin = keys.token(Who::Admin).unwrap();
    let body = json!({"requester": "alice", "text": "想借一个电钻", "category": "tools"});
    let resp = send(&app, keys.token(Who::Alice), Method::POST, "/v1/demands", Some(body.clone())).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let demand: Value = resp.json().await.unwrap();
    let events = get_as(&app, admin, "/v1/events").await;
    let created = events["items"].as_array().unwrap().iter().find(|e| e["kind"] == "demand.created").unwrap();
    assert_eq!(
        (created["entity_id"].clone(), created["actor_key"].as_i64()),
        (demand["id"].clone(), Some(keys.alice_key))
    );

    // Made and revoked over the API: the new key works, then is refused at once.
    let resp = send(&app, Some(admin), Method::POST, "/v1/keys", Some(json!({"role": "user", "party": "carol"}))).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let made: Value = resp.json().await.unwrap();
    let token = made["token"].as_str().unwrap();
    let me = get_as(&app, token, "/v1/me").await;
    assert_eq!((me["role"].as_str(), me["party"].as_str()), (Some("user"), Some("carol")));
    let listed = get_as(&app, admin, "/v1/keys").await;
    assert!(!listed.to_string().contains(&token[token.len() - 64..]), "a listing never shows a secret");
    let revoke = format!("/v1/keys/{}/revoke", made["key"]["id"]);
    assert_eq!(send(&app, Some(admin), Method::POST, &revoke, None).await.status(), StatusCode::OK);
    let resp = send(&app, Some(token), Method::GET, "/v1/me", None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    // A live key's id with a wrong secret is refused like an unknown key.
    let alice = keys.token(Who::Alice).unwrap();
    assert_eq!(send(&app, Some(alice), Method::GET, "/v1/me", None).await.status(), StatusCode::OK);
    let forged = format!("{}{}", &alice[..alice.len() - 1], if alice.ends_with('0') { '1' } else { '0' });
    assert_eq!(send(&app, Some(&forged), Method::GET, "/v1/me", None).await.status(), StatusCode::UNAUTHORIZED);
    // A key made after its id was tried works at once.
    let next = made["key"]["id"].as_i64().unwrap() + 1;
    let guess = format!("wlk_{next}_{}", "0".repeat(64));
    assert_eq!(send(&app, Some(&guess), Method::GET, "/v1/me", None).await.status(), StatusCode::UNAUTHORIZED);
    let resp = send(&app, Some(admin), Method::POST, "/v1/keys", Some(json!({"role": "user", "party": "dan"}))).await;
    let fresh: Value = resp.json().await.unwrap();
    assert_eq!(fresh["key"]["id"].as_i64(), Some(next));
    let me = get_as(&app, fresh["token"].as_str().unwrap(), "/v1/me").await;
    assert_eq!(me["party"], "dan");
    // HEAD has GET's roles: the probes answer it without a key.
    let head = app.http.head(app.url("/healthz")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_document_declares_the_scheme_and_every_routes_roles() {
    let doc = wantloop_server::routes::openapi();
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let security = op["security"].as_array().unwrap_or_else(|| panic!("{method} {path} declares no roles"));
            let public = security.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty()));
            assert_eq!(public, may(method, path).is_none(), "{method} {path}");
            if !public {
                assert!(op["responses"]["401"].is_object() && op["responses"]["403"].is_object(), "{method} {path}");
            }
        }
    }
}

#[tokio::test]
async fn an_open_server_is_refused_off_loopback_and_acts_as_admin_on_it() {
    let db = TestDb::sqlite().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let engine = wantloop_engine::Engine::with_store(store.clone(), &open_engine_config(&db)).await.unwrap();
    let wide = Application::with_engine(engine.clone(), "0.0.0.0:0".parse().unwrap(), Limits::default()).await.unwrap();
    assert!(wide.with_access(Access::Open).is_err());
    let app = Application::with_engine(engine, "127.0.0.1:0".parse().unwrap(), Limits::default())
        .await
        .unwrap()
        .with_access(Access::Open)
        .unwrap();
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let me: Value = reqwest::get(format!("{base}/v1/me")).await.unwrap().json().await.unwrap();
    assert_eq!(me, json!({"key": null, "role": "admin", "party": null}));
    // A key sent to an open server still counts, and a bad one is still refused.
    let resp = reqwest::Client::new().get(format!("{base}/v1/me")).bearer_auth("wlk_1_nope").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

fn open_engine_config(db: &TestDb) -> wantloop_engine::EngineConfig {
    let mut engine = wantloop_engine::EngineConfig::embedded(std::path::Path::new("."));
    engine.database_url = db.url.clone();
    engine.index = wantloop_engine::IndexLocation::Memory;
    engine.jobs.retrain_scheduler = false;
    engine
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_requester_relists_what_she_received() {
    let (_db, app, keys) = keyed_app().await;
    let rows = make_rows(&app, &keys, 0, true).await;
    let url = format!("/v1/matches/{}/fulfil", rows.matched);
    let relist = json!({"relist": {"condition": "good"}});
    let before = snapshot(app.store.as_ref()).await;
    let resp = send(&app, keys.token(Who::Bob), Method::POST, &url, Some(relist.clone())).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "the provider cannot make Alice a provider");
    assert_eq!(snapshot(app.store.as_ref()).await, before);
    let resp = send(&app, keys.token(Who::Alice), Method::POST, &url, Some(relist)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let fulfilled: Value = resp.json().await.unwrap();
    let relisted = fulfilled["relisted_offer_id"].as_i64().unwrap();
    let offer = get_as(&app, keys.token(Who::Alice).unwrap(), &format!("/v1/offers/{relisted}")).await;
    assert_eq!(offer["provider"], "alice");
}
