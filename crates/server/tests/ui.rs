//! The dashboard in a real browser: headless Chromium driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`) against the real server with
//! keys. An operator logs in, sees the overview agree with `/v1/stats`,
//! labels a demand in the review queue, rolls a model back, matches a demand
//! (its candidates' explanations adding up to their scores), runs a batch
//! allocation and answers a question the assistant refused; each step is
//! checked through the API too.
//!
//! Skips with a notice when `chromedriver` is missing, unless
//! `WANTLOOP_REQUIRE_BROWSER` is set (as `.ci/run` does after installing it).
//! With `WANTLOOP_SCREENSHOTS=DIR` it saves the pages it visits there.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{App, boot_as, fixture};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use wantloop_core::KeyInput;
use wantloop_server::{Access, Limits};
use wantloop_store::testing::TestDb;
use wantloop_store::{Classification, Store};

/// A chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Option<String> {
    ["chromedriver", "/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
        .map(str::to_string)
}

async fn start_driver() -> Option<Driver> {
    let Some(bin) = chromedriver() else {
        assert!(
            std::env::var_os("WANTLOOP_REQUIRE_BROWSER").is_none(),
            "WANTLOOP_REQUIRE_BROWSER is set but chromedriver is not installed"
        );
        eprintln!(
            "notice: chromedriver is not installed (apt-get install chromium chromium-driver); the browser tests skip"
        );
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
    for _ in 0..100 {
        if reqwest::get(format!("{}/status", driver.url)).await.is_ok_and(|r| r.status().is_success()) {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer within 10 s");
}

async fn browser(driver: &Driver) -> Client {
    let mut args = vec!["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"];
    args.push("--lang=en-US");
    let mut options = json!({ "args": args });
    if std::path::Path::new("/usr/bin/chromium").exists() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

async fn key(store: &dyn Store, role: &str, party: Option<&str>) -> String {
    let input = KeyInput { role: role.into(), party: party.map(Into::into), name: Some("ui test".into()) };
    store.create_key(&input.parse().unwrap()).await.unwrap().1
}

fn model(seed: u64) -> wantloop_store::NewModel {
    let data = wantloop_ml::classifier::read_file(&fixture("demands_train.tsv")).unwrap();
    let config = wantloop_ml::TrainConfig { seed, epochs: 5, ..Default::default() };
    let m = wantloop_ml::classifier::train(&data, None, &config, &mut |_, _| {}).unwrap().0;
    wantloop_store::NewModel {
        kind: "classifier".into(),
        data_hash: format!("fixture-{seed}"),
        metrics: json!({"accuracy": 0.9}),
        params: json!({}),
        blob: m.to_bytes(),
    }
}

/// A small market: bicycles and books in Hangzhou, three demands waiting for review.
async fn market(app: &App) -> Vec<i64> {
    let store = app.store.as_ref();
    for (i, (text, category, price)) in [
        ("九成新山地自行车", "bicycles", 30_000),
        ("折叠自行车 可送货", "bicycles", 45_000),
        ("英语词典 第七版", "books", 3_000),
    ]
    .into_iter()
    .enumerate()
    {
        let offer = wantloop_core::OfferInput {
            provider: format!("shop{i}"),
            text: text.into(),
            category: category.into(),
            price,
            capacity: Some(3),
            location: Some(wantloop_core::demand::LocationInput { lat: 30.28, lon: 120.16 }),
            ..Default::default()
        };
        store.create_offer(&offer.parse().unwrap(), None).await.unwrap();
    }
    let mut queued = Vec::new();
    for (i, text) in
        ["想买一辆二手自行车", "求购自行车 通勤用", "need an english dictionary", "想要一辆山地车", "找一本英语词典"]
            .into_iter()
            .enumerate()
    {
        let input = wantloop_core::DemandInput {
            requester: format!("person{i}"),
            text: text.into(),
            budget: Some(60_000),
            location: Some(wantloop_core::demand::LocationInput { lat: 30.27, lon: 120.15 }),
            ..Default::default()
        };
        // The first three wait for review, unsure of their category.
        let category = if text.contains("dictionary") || text.contains("词典") { "books" } else { "bicycles" };
        let class = Classification { needs_review: i < 3, confidence: 0.4, ..Classification::given(category) };
        let d = store.create_demand(&input.parse().unwrap(), &class, None).await.unwrap().done().unwrap();
        if i < 3 {
            queued.push(d.id);
        }
    }
    queued
}

async fn api(app: &App, key: &str, path: &str) -> Value {
    app.http.get(app.url(path)).bearer_auth(key).send().await.unwrap().json().await.unwrap()
}

async fn shot(c: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("WANTLOOP_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

/// Waits until `check` holds (10 s at most).
async fn eventually<F: AsyncFn() -> bool>(what: &str, check: F) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_steers_the_loop_from_the_dashboard() {
    let Some(driver) = start_driver().await else { return };
    let db = TestDb::sqlite().await.unwrap();
    let app = boot_as(&db, Limits { rate_per_second: 0, ..Limits::default() }, Access::Keys).await;
    let admin = key(app.store.as_ref(), "admin", None).await;
    let user = key(app.store.as_ref(), "user", Some("person0")).await;
    let queued = market(&app).await;
    let v1 = app.store.register_model(&model(1)).await.unwrap();
    let v2 = app.store.register_model(&model(2)).await.unwrap();
    app.store.activate_model(v2.id, None).await.unwrap();
    let c = browser(&driver).await;

    // A user key is turned away; the admin key logs in.
    c.goto(&app.url("/ui")).await.unwrap();
    c.wait().for_element(Locator::Css("#key")).await.unwrap().send_keys(&user).await.unwrap();
    c.find(Locator::Css("#login")).await.unwrap().click().await.unwrap();
    eventually("the user key refused", || async { text_of(&c, "#login-error").await.contains("admin key") }).await;
    let field = c.find(Locator::Css("#key")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(&admin).await.unwrap();
    shot(&c, "login").await;
    c.find(Locator::Css("#login")).await.unwrap().click().await.unwrap();

    // The overview's numbers are /v1/stats'.
    let stats = api(&app, &admin, "/v1/stats").await;
    for kind in ["demands", "offers"] {
        let counts = stats[kind].as_object().unwrap();
        assert!(!counts.is_empty());
        for (state, n) in counts {
            let shown = text_of(&c, &format!("[data-stat='{kind}.{state}']")).await;
            assert_eq!(shown, n.to_string(), "{kind}.{state}");
        }
        let total: i64 = counts.values().map(|v| v.as_i64().unwrap()).sum();
        assert_eq!(text_of(&c, &format!("[data-stat='{kind}.total']")).await, total.to_string());
    }
    assert_eq!(text_of(&c, "[data-stat='events']").await, stats["events"].to_string());
    c.wait().for_element(Locator::Css("#matches-chart canvas")).await.unwrap();

    // A demand's page: candidates with their explanations, then "match now".
    let demand = queued[0];
    c.goto(&app.url(&format!("/ui#/demands/{demand}"))).await.unwrap();
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#candidates td[data-score]")).await.unwrap();
    // Each candidate's explanation adds up to its score, and names who scored.
    let rows = c.find_all(Locator::Css("#candidates tr")).await.unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let attr = |e: &fantoccini::elements::Element, name: &'static str| {
            let e = e.clone();
            async move { e.attr(name).await.unwrap().unwrap().parse::<f64>().unwrap() }
        };
        let score = attr(&row.find(Locator::Css("td[data-score]")).await.unwrap(), "data-score").await;
        let why = row.find(Locator::Css(".explanation")).await.unwrap();
        let mut sum = attr(&why, "data-bias").await;
        for part in why.find_all(Locator::Css("[data-contribution]")).await.unwrap() {
            sum += attr(&part, "data-value").await;
        }
        assert!((sum - score).abs() < 1e-9, "contributions add up to {sum}, the score is {score}");
        assert_eq!(why.find(Locator::Css(".scorer")).await.unwrap().text().await.unwrap(), "v1 weights");
    }
    c.find(Locator::Css("#match-now")).await.unwrap().click().await.unwrap();
    eventually("a match proposed", || async { text_of(&c, "#match-result").await.contains("1 match(es) proposed") })
        .await;
    let matches = api(&app, &admin, &format!("/v1/matches?demand_id={demand}")).await;
    assert_eq!(matches["items"].as_array().unwrap().len(), 1, "{matches}");
    eventually("the match listed", || async { text_of(&c, "#demand-matches").await.contains("proposed") }).await;
    shot(&c, "demand").await;

    // The review queue: one click labels a demand, and it leaves the queue.
    c.goto(&app.url("/ui#/review")).await.unwrap();
    let target = queued[2];
    let row = format!("tr[data-demand='{target}']");
    c.wait().for_element(Locator::Css(&row)).await.unwrap();
    shot(&c, "review").await;
    let button = c.find(Locator::Css(&format!("{row} button[data-category='books']"))).await.unwrap();
    button.click().await.unwrap();
    eventually("the labelled demand leaves the queue", || async { c.find(Locator::Css(&row)).await.is_err() }).await;
    let d = api(&app, &admin, &format!("/v1/demands/{target}")).await;
    assert_eq!((d["needs_review"].as_bool(), d["category"].as_str()), (Some(false), Some("books")), "{d}");
    let queue = api(&app, &admin, "/v1/review/demands").await;
    assert!(queue["items"].as_array().unwrap().iter().all(|d| d["id"] != target), "{queue}");

    // Models: roll back to v1.
    c.goto(&app.url("/ui#/models")).await.unwrap();
    let activate = c.wait().for_element(Locator::Css(&format!("button[data-model='{}']", v1.id))).await.unwrap();
    assert_eq!(activate.text().await.unwrap(), "Roll back to");
    activate.click().await.unwrap();
    let active_row = format!("tr[data-model-row='{}'] .active-mark", v1.id);
    c.wait().for_element(Locator::Css(&active_row)).await.unwrap();
    assert_eq!(app.store.active_model("classifier").await.unwrap().unwrap().id, v1.id);
    shot(&c, "models").await;

    // A batch allocation and its report.
    let before = api(&app, &admin, "/v1/stats").await["matches"]["proposed"].as_i64().unwrap_or(0);
    c.goto(&app.url("/ui#/allocate")).await.unwrap();
    c.wait().for_element(Locator::Css("#run-allocation")).await.unwrap().click().await.unwrap();
    let planned: i64 = text_of(&c, "[data-report='planned units']").await.parse().unwrap();
    let proposed: i64 = text_of(&c, "[data-report='proposed matches']").await.parse().unwrap();
    assert!(planned > 0 && proposed > 0, "planned {planned}, proposed {proposed}");
    let stats = api(&app, &admin, "/v1/stats").await;
    let after = stats["matches"]["proposed"].as_i64().unwrap_or_else(|| panic!("{stats}"));
    assert_eq!(after - before, proposed);
    shot(&c, "allocation").await;

    // A question the assistant refused, answered on the Questions page with
    // one of its closest entries: it leaves the open list, becomes a phrasing,
    // and is answered the next time it is asked.
    let faq = json!({"entries": [{"entry": "post", "lang": "zh", "questions": ["怎么发布需求？"], "answer": "在首页点“发布需求”。"}]});
    let saved: Value =
        app.http.post(app.url("/v1/faq")).bearer_auth(&admin).json(&faq).send().await.unwrap().json().await.unwrap();
    let entry = saved[0]["id"].as_i64().unwrap_or_else(|| panic!("{saved}"));
    let question = "需求发出去以后别人能看到我的电话吗";
    let ask = |key: String| {
        let (http, url) = (app.http.clone(), app.url("/v1/ask"));
        async move {
            let r = http.post(url).bearer_auth(key).json(&json!({"question": question})).send().await.unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    let refused = ask(user.clone()).await;
    assert_eq!(refused["answered"], false, "{refused}");
    let kept = refused["logged"].as_i64().unwrap_or_else(|| panic!("{refused}"));
    c.goto(&app.url("/ui#/questions")).await.unwrap();
    let row = format!("tr[data-question='{kept}']");
    let choice = c.wait().for_element(Locator::Css(&format!("{row} button[data-entry='{entry}']"))).await.unwrap();
    shot(&c, "questions").await;
    choice.click().await.unwrap();
    eventually("the answered question leaves the list", || async { c.find(Locator::Css(&row)).await.is_err() }).await;
    let done = api(&app, &admin, "/v1/ask/questions?resolved=true").await;
    assert_eq!(done["items"][0]["chosen_entry"], entry, "{done}");
    let grown = api(&app, &admin, &format!("/v1/faq/{entry}")).await;
    assert_eq!(grown["questions"][1], question, "{grown}");
    let answered = ask(user.clone()).await;
    assert_eq!((&answered["answered"], &answered["source"]["entry"]), (&json!(true), &json!(entry)), "{answered}");
    c.goto(&app.url("/ui#/questions?resolved=true")).await.unwrap();
    assert_eq!(text_of(&c, &format!("{row} .chosen")).await, entry.to_string());

    // Demands found by search, and the overview again for its picture.
    c.goto(&app.url("/ui#/demands?q=自行车")).await.unwrap();
    eventually("search results", || async { text_of(&c, "#demands-rows").await.contains("自行车") }).await;
    shot(&c, "demands").await;
    c.goto(&app.url("/ui#/")).await.unwrap();
    c.wait().for_element(Locator::Css("#matches-chart canvas")).await.unwrap();
    shot(&c, "overview").await;
    c.close().await.unwrap();
}

/// The README's pictures, of a running server (the demo's):
/// `WANTLOOP_UI_URL=http://127.0.0.1:8080 WANTLOOP_UI_KEY=wlk_… WANTLOOP_SCREENSHOTS=docs/screenshots
/// cargo test -p wantloop-server --test ui -- --ignored`.
#[tokio::test]
#[ignore = "takes pictures of a server given by WANTLOOP_UI_URL and WANTLOOP_UI_KEY"]
async fn pictures_of_a_running_server() {
    let (Ok(base), Ok(admin)) = (std::env::var("WANTLOOP_UI_URL"), std::env::var("WANTLOOP_UI_KEY")) else {
        panic!("set WANTLOOP_UI_URL and WANTLOOP_UI_KEY");
    };
    let Some(driver) = start_driver().await else { return };
    let c = browser(&driver).await;
    c.goto(&format!("{base}/ui")).await.unwrap();
    c.wait().for_element(Locator::Css("#key")).await.unwrap().send_keys(&admin).await.unwrap();
    c.find(Locator::Css("#login")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#matches-chart canvas")).await.unwrap();
    shot(&c, "overview").await;
    // An open demand of the market, for the demand page's picture.
    let open: Value = reqwest::Client::new()
        .get(format!("{base}/v1/demands?status=open&limit=1"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pages = [
        ("demands", "#/demands?q=自行车".to_string(), "#demands-rows tr"),
        ("demand", format!("#/demands/{}", open["items"][0]["id"]), "#candidates tr"),
        ("review", "#/review".to_string(), "h1"),
        ("questions", "#/questions".to_string(), "h1"),
        ("models", "#/models".to_string(), "#model-rows tr"),
        ("allocation", "#/allocate".to_string(), "#run-allocation"),
    ];
    for (name, hash, ready) in pages {
        c.goto(&format!("{base}/ui{hash}")).await.unwrap();
        c.wait().for_element(Locator::Css(ready)).await.unwrap();
        if name == "allocation" {
            c.find(Locator::Css("#allocation-dry-run")).await.unwrap().click().await.unwrap();
            c.find(Locator::Css("#run-allocation")).await.unwrap().click().await.unwrap();
            c.wait().for_element(Locator::Css("[data-report='planned units']")).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        shot(&c, name).await;
    }
    c.close().await.unwrap();
}
