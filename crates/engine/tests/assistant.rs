//! The assistant through the engine: the demo FAQ imported, questions
//! answered from their entries or refused (and kept for the operator, whose
//! answer becomes training pairs), the paraphrase scorer trained and
//! served, a change on one node followed by another, and the market graph's
//! answers checked against the store's own numbers. SQLite and, when
//! configured, PostgreSQL.

use std::sync::Arc;

use wantloop_core::demand::LocationInput;
use wantloop_core::offer::OfferInput;
use wantloop_core::{GeoPoint, Offer, OfferStatus};
use wantloop_engine::ask::AnswerSource;
use wantloop_engine::{Engine, EngineConfig, EngineError, IndexLocation};
use wantloop_store::testing::TestDb;
use wantloop_store::{NewFaqEntry, OfferFilter, Store};

const DEMO_FAQ: &str = include_str!("../../cli/demo/faq.jsonl");

fn config(db: &TestDb) -> EngineConfig {
    EngineConfig {
        database_url: db.url.clone(),
        index: IndexLocation::Memory,
        blobs: None,
        ..EngineConfig::embedded(std::path::Path::new("."))
    }
}

async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![TestDb::sqlite().await.unwrap()];
    dbs.extend(TestDb::postgres().await.unwrap());
    dbs
}

fn faq_key(a: &wantloop_engine::ask::Answer) -> Option<&str> {
    match &a.source {
        Some(AnswerSource::Faq { key, .. }) => Some(key),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_from_the_faq_refuses_the_rest_and_learns_from_the_operator() {
    for db in databases().await {
        faq_on(&db).await;
        db.cleanup().await;
    }
}

async fn faq_on(db: &TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let engine = Engine::with_store(store.clone(), &config(db)).await.unwrap();
    // An empty FAQ refuses, in the question's language.
    let a = engine.ask("怎么发布需求？", None).await.unwrap();
    assert!(!a.answered);
    assert_eq!((a.answer.as_str(), a.lang.as_str()), ("对不起，我无法回答这个问题。", "zh"));

    let imported = engine.import_faq("faq.jsonl", DEMO_FAQ).await.unwrap();
    assert!(imported.errors.is_empty(), "{:?}", imported.errors);
    assert!(imported.saved >= 40, "{}", imported.saved);

    // A stored phrasing is answered from its entry, with the lexical scorer.
    let a = engine.ask("提议的匹配多久失效？", None).await.unwrap();
    assert_eq!((a.answered, faq_key(&a), a.scorer.as_str()), (true, Some("proposal-expiry"), "lexical"), "{a:?}");
    assert!(a.answer.contains("48"), "{}", a.answer);
    let a = engine.ask("What happens if I reject a match?", None).await.unwrap();
    assert_eq!((a.lang.as_str(), faq_key(&a)), ("en", Some("reject-match")), "{a:?}");
    assert_eq!(a.corrected, None, "nothing misspelt");
    // A misspelt English word is read as the word the FAQ knows, and said so.
    let spelt = engine.ask("How do I cancel a demand?", None).await.unwrap();
    let typo = engine.ask("How do I canel a demnad?", None).await.unwrap();
    assert_eq!(typo.corrected.as_deref(), Some("How do I cancel a demand?"), "{typo:?}");
    assert_eq!((typo.answered, faq_key(&typo)), (spelt.answered, faq_key(&spelt)), "{typo:?}");
    assert_eq!((spelt.answered, faq_key(&spelt)), (true, Some("cancel-demand")), "{spelt:?}");
    // Not the words of a synonym rule (ebike => electric bike), nor in a Chinese question.
    let rule = engine.ask("Can I sell my ebike?", None).await.unwrap();
    assert_eq!(rule.corrected, None, "{rule:?}");
    let zh = engine.ask("怎么 canel 需求", None).await.unwrap();
    assert_eq!(zh.corrected, None, "{zh:?}");

    // Off-topic: refused, with the closest questions, and kept for the operator.
    let refused = engine.ask("今天杭州的天气怎么样？", None).await.unwrap();
    assert!(!refused.answered && refused.source.is_none(), "{refused:?}");
    assert!(refused.confidence < refused.threshold);
    let kept = refused.logged.expect("a refused question is kept");
    let open = engine.asked_questions(false, 0, 100).await.unwrap();
    assert!(open.iter().any(|q| q.id == kept && q.outcome == "refused" && q.question == "今天杭州的天气怎么样？"));

    // The operator's answer: a 422 for an entry that does not exist, then
    // labelled pairs (its phrasings positive) for the next training.
    let entries = engine.faq_entries(0, 1_000).await.unwrap();
    let post = entries.iter().find(|e| e.key == "post-demand" && e.lang == "zh").unwrap();
    assert!(matches!(engine.resolve_question(kept, Some(999_999), false).await, Err(EngineError::Invalid(_))));
    let resolved = engine.resolve_question(kept, Some(post.id), false).await.unwrap().unwrap();
    assert!(!resolved.phrasing_added);
    let resolved = resolved.question;
    assert_eq!(resolved.chosen_entry, Some(post.id));
    assert!(!engine.asked_questions(false, 0, 100).await.unwrap().iter().any(|q| q.id == kept));
    let pairs = engine.operator_pairs().await.unwrap();
    assert_eq!(pairs.iter().filter(|p| p.label).count(), post.questions.len());

    // Another node follows a change made through this one.
    let other = Engine::with_store(store.clone(), &config(db)).await.unwrap();

    // An answer that adds the question to the entry's phrasings: asked
    // again, on either node, it is answered from that entry.
    let unsure = "我要买个二手冰箱，求购信息在哪发";
    let before = engine.ask(unsure, None).await.unwrap();
    assert!(!before.answered, "{before:?}");
    let kept = before.logged.expect("kept for the operator");
    let added = engine.resolve_question(kept, Some(post.id), true).await.unwrap().unwrap();
    assert!(added.phrasing_added);
    for node in [&engine, &other] {
        let a = node.ask(unsure, None).await.unwrap();
        assert_eq!((a.answered, faq_key(&a)), (true, Some("post-demand")), "{a:?}");
    }
    let grown = engine.operator_pairs().await.unwrap();
    assert!(grown.iter().all(|p| p.a != p.b), "no pair of a question with itself");
    // The first answer's question against the grown entry; the second's is
    // one of its phrasings now, paired by the FAQ's own pairs.
    assert_eq!(grown.iter().filter(|p| p.label).count(), post.questions.len() + 1);
    assert_ne!(faq_key(&other.ask("wantloop 的吉祥物叫什么名字？", None).await.unwrap()), Some("mascot"));
    engine
        .save_faq_entries(vec![NewFaqEntry {
            key: "mascot".into(),
            lang: "zh".into(),
            questions: vec!["wantloop 的吉祥物叫什么名字？".into(), "吉祥物是什么".into()],
            answer: "一只叫「环环」的猫。".into(),
        }])
        .await
        .unwrap();
    let a = other.ask("wantloop 的吉祥物叫什么名字？", None).await.unwrap();
    assert_eq!((a.answered, faq_key(&a)), (true, Some("mascot")), "{a:?}");
    let mascot = engine.faq_entries(0, 1_000).await.unwrap().into_iter().find(|e| e.key == "mascot").unwrap();
    assert!(engine.delete_faq_entry(mascot.id).await.unwrap());
    assert_ne!(faq_key(&other.ask("wantloop 的吉祥物叫什么名字？", None).await.unwrap()), Some("mascot"));

    // A trained scorer serves when activated.
    let trained = engine.train_paraphrase(Vec::new(), true).await.unwrap();
    assert!(trained.activated);
    assert_eq!(trained.operator_pairs, grown.len());
    let a = engine.ask("提议的匹配多久失效？", None).await.unwrap();
    assert_eq!((a.answered, faq_key(&a)), (true, Some("proposal-expiry")), "{a:?}");
    assert!(a.scorer.starts_with("paraphrase"), "{}", a.scorer);

    // Bad input names its field.
    for (q, lang, field) in [("", None, "question"), ("？", None, "question"), ("hi", Some("fr"), "lang")] {
        match engine.ask(q, lang).await {
            Err(EngineError::Invalid(v)) => assert_eq!(v.0[0].field, field),
            other => panic!("{q:?}: {other:?}"),
        }
    }
    let long = "问".repeat(501);
    assert!(matches!(engine.ask(&long, None).await, Err(EngineError::Invalid(_))));
}

/// The sentence model's folder (`wantloop models install text`), when set;
/// `.ci/run` sets it and requires it.
fn sentence_model() -> Option<std::path::PathBuf> {
    wantloop_ml::sentence::testing::model_dir("matching by meaning is not tested")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn english_questions_are_matched_by_meaning_with_the_sentence_model() {
    let Some(model) = sentence_model() else { return };
    for db in databases().await {
        meaning_on(&db, &model).await;
        db.cleanup().await;
    }
}

async fn meaning_on(db: &TestDb, model: &std::path::Path) {
    use wantloop_engine::ask::{MEANING_SCORER, MEANING_THRESHOLD};
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let words = Engine::with_store(store.clone(), &config(db)).await.unwrap();
    let meaning_config = EngineConfig { sentence_model: Some(model.to_path_buf()), ..config(db) };
    let engine = Engine::with_store(store.clone(), &meaning_config).await.unwrap();
    engine.import_faq("faq.jsonl", DEMO_FAQ).await.unwrap();

    // "pics" and "attach … listing" share no word with the entry about
    // photos that its words find; by meaning it is that entry.
    let q = "how to attach pics to my listing";
    let a = engine.ask(q, None).await.unwrap();
    assert_eq!((a.answered, faq_key(&a), a.scorer.as_str()), (true, Some("upload-images"), MEANING_SCORER), "{a:?}");
    assert_eq!(a.threshold, MEANING_THRESHOLD);
    assert!(a.confidence >= a.threshold && a.confidence <= 1.0, "{a:?}");
    assert_ne!(
        faq_key(&words.ask(q, None).await.unwrap()),
        Some("upload-images"),
        "the words alone find another entry"
    );
    // Off-topic English is refused, with suggestions and kept.
    let refused = engine.ask("what's the capital of Peru", None).await.unwrap();
    assert!(!refused.answered && refused.logged.is_some() && !refused.alternatives.is_empty(), "{refused:?}");
    // Chinese questions are matched by their words, as before.
    let zh = engine.ask("提议的匹配多久失效？", None).await.unwrap();
    assert_eq!((faq_key(&zh), zh.scorer.as_str()), (Some("proposal-expiry"), "lexical"), "{zh:?}");

    // A new entry is embedded when the FAQ changes, and found by meaning.
    let abroad = "is international delivery available?";
    engine
        .save_faq_entries(vec![NewFaqEntry {
            key: "shipping".into(),
            lang: "en".into(),
            questions: vec!["Do you ship overseas?".into()],
            answer: "wantloop does not arrange delivery; provider and requester agree on it.".into(),
        }])
        .await
        .unwrap();
    let a = engine.ask(abroad, None).await.unwrap();
    assert_eq!((a.answered, faq_key(&a), a.scorer.as_str()), (true, Some("shipping"), MEANING_SCORER), "{a:?}");

    // More new phrasings than a reload embeds at once: English is matched by
    // its words until the background has embedded them, then by meaning.
    let many: Vec<NewFaqEntry> = (0..15)
        .map(|i| NewFaqEntry {
            key: format!("filler-{i}"),
            lang: "en".into(),
            questions: (0..20).map(|j| format!("What does the filler setting {i}-{j} do?")).collect(),
            answer: format!("Filler {i} does nothing."),
        })
        .collect();
    engine.save_faq_entries(many).await.unwrap();
    // This ask loads the FAQ and starts the background run, held back until
    // it has answered: by words, and without waiting for the embedding.
    let held = engine.hold_faq_embedding().await;
    let first = tokio::time::timeout(std::time::Duration::from_secs(60), engine.ask(q, None))
        .await
        .expect("the answer does not wait for the background embedding")
        .unwrap();
    assert_eq!(first.scorer, "lexical", "{first:?}");
    drop(held);
    assert!(engine.faq_embedded(std::time::Duration::from_secs(300)).await.unwrap());
    let later = engine.ask(q, None).await.unwrap();
    assert_eq!((later.scorer.as_str(), faq_key(&later)), (MEANING_SCORER, Some("upload-images")), "{later:?}");
}

async fn post(store: &dyn Store, provider: &str, text: &str, category: &str, price: i64, at: (f64, f64)) -> Offer {
    let offer = OfferInput {
        provider: provider.into(),
        text: text.into(),
        category: category.into(),
        price,
        capacity: Some(2),
        location: Some(LocationInput { lat: at.0, lon: at.1 }),
        ..Default::default()
    };
    store.create_offer(&offer.parse().unwrap(), None).await.unwrap().done().unwrap()
}

fn graph_facts(a: &wantloop_engine::ask::Answer) -> &serde_json::Value {
    match &a.source {
        Some(AnswerSource::Graph { facts, .. }) => facts,
        other => panic!("not a graph answer: {other:?} ({})", a.answer),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_market_graph_answers_with_the_stores_numbers() {
    for db in databases().await {
        graph_on(&db).await;
        db.cleanup().await;
    }
}

async fn graph_on(db: &TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let engine = Engine::with_store(store.clone(), &config(db)).await.unwrap();
    let hangzhou = (30.2741, 120.1551);
    let shanghai = (31.2304, 121.4737);
    let mut offers = Vec::new();
    for i in 0..9i64 {
        let at = if i % 3 == 0 { shanghai } else { (hangzhou.0 + 0.01 * i as f64, hangzhou.1) };
        offers.push(
            post(store.as_ref(), "bob", &format!("二手山地自行车 {i}号"), "bicycles", 30_000 + 5_000 * i, at).await,
        );
    }
    for (i, price) in [12_000, 45_000, 30_000].into_iter().enumerate() {
        offers.push(post(store.as_ref(), "carol", &format!("实木婴儿床 {i}"), "baby", price, hangzhou).await);
    }
    post(store.as_ref(), "carol", "婴儿推车", "baby", 99_900, hangzhou).await;
    // One bicycle withdrawn: no longer available.
    engine.store().withdraw_offer(offers[1].id, None).await.unwrap();

    // The store's own numbers.
    let all = store.all_offers(&OfferFilter::default()).await.unwrap();
    let near = |o: &Offer, c: (f64, f64)| o.location.unwrap().distance_km(&GeoPoint { lat: c.0, lon: c.1 }) <= 50.0;
    let bikes_in_hangzhou = all
        .iter()
        .filter(|o| o.category == "bicycles" && o.status == OfferStatus::Available && near(o, hangzhou))
        .count();
    assert_eq!(bikes_in_hangzhou, 5);

    let a = engine.ask("杭州有多少辆可用的二手自行车？", None).await.unwrap();
    assert_eq!(graph_facts(&a)["count"], bikes_in_hangzhou, "{a:?}");
    assert!(a.answer.contains(&format!("{bikes_in_hangzhou} 个")), "{}", a.answer);
    let a = engine.ask("How many bikes are available in Shanghai?", None).await.unwrap();
    let in_shanghai = all
        .iter()
        .filter(|o| o.category == "bicycles" && o.status == OfferStatus::Available && near(o, shanghai))
        .count();
    assert_eq!(graph_facts(&a)["count"], in_shanghai);

    // Cribs, not every baby item: 120, 300 and 450 yuan.
    let a = engine.ask("婴儿床一般多少钱？", None).await.unwrap();
    let f = graph_facts(&a);
    assert_eq!(
        (f["count"].as_i64(), f["min"].as_i64(), f["median"].as_i64(), f["max"].as_i64()),
        (Some(3), Some(12_000), Some(30_000), Some(45_000)),
        "{a:?}"
    );
    assert!(a.answer.contains("120 元") && a.answer.contains("450 元"), "{}", a.answer);
    // A whole category's range, from the index's price column: the store's numbers.
    let mut bike_prices: Vec<i64> = all
        .iter()
        .filter(|o| o.category == "bicycles" && o.status == OfferStatus::Available && near(o, hangzhou))
        .map(|o| o.price)
        .collect();
    bike_prices.sort_unstable();
    let a = engine.ask("杭州的自行车一般多少钱？", None).await.unwrap();
    let f = graph_facts(&a);
    let lower_median = bike_prices[(bike_prices.len() - 1) / 2];
    assert_eq!(
        (f["count"].as_u64(), f["min"].as_i64(), f["median"].as_i64(), f["max"].as_i64()),
        (Some(bike_prices.len() as u64), bike_prices.first().copied(), Some(lower_median), bike_prices.last().copied()),
        "{a:?}"
    );

    // An offer's attributes from its row; an unknown offer said so.
    let a = engine.ask(&format!("who provides offer {}?", offers[9].id), None).await.unwrap();
    assert_eq!(graph_facts(&a)["provider"], "carol");
    let a = engine.ask(&format!("{}号商品的价格是多少", offers[2].id), None).await.unwrap();
    assert_eq!(graph_facts(&a)["price"], offers[2].price);
    let a = engine.ask("what is the status of offer 987654?", None).await.unwrap();
    assert_eq!(graph_facts(&a)["exists"], false);

    // A new offer counts at once (the index is caught up before it answers).
    post(store.as_ref(), "dave", "公路自行车", "bicycles", 80_000, hangzhou).await;
    let a = engine.ask("杭州有多少辆可用的二手自行车？", None).await.unwrap();
    assert_eq!(graph_facts(&a)["count"], bikes_in_hangzhou + 1);

    // Imported triples: bad lines numbered, good ones kept and answered.
    let import = engine
        .import_triples(
            "subject,relation,object\nwantloop,许可证,Apache-2.0\nbroken,row\nwantloop,license,Apache-2.0\n",
        )
        .await
        .unwrap();
    assert_eq!((import.added, import.errors.len(), import.errors[0].line), (2, 1, 3));
    let a = engine.ask("wantloop 的许可证是什么？", None).await.unwrap();
    assert_eq!(graph_facts(&a)["objects"][0], "Apache-2.0", "{a:?}");
    let a = engine.ask("What is the license of wantloop?", None).await.unwrap();
    assert!(a.answer.contains("Apache-2.0"), "{a:?}");

    // What the graph does not know goes to the FAQ (empty here: refused).
    let a = engine.ask("发布需求要多少钱？", None).await.unwrap();
    assert!(!a.answered && a.source.is_none(), "{a:?}");
    // A number without an attribute word is no offer question.
    let a = engine.ask("杭州有多少个2号自行车？", None).await.unwrap();
    assert!(!matches!(&a.source, Some(AnswerSource::Graph { query, .. }) if query.starts_with("offer")), "{a:?}");
}
