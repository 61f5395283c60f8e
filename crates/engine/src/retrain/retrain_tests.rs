//! Retraining as the scheduler and an operator drive it, on SQLite: due only
//! when due, one run at a time, the base data always in, the gate's numbers,
//! an operator's choice kept, and old versions pruned.

use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wantloop_ml::classifier::LabelledText;
use wantloop_store::testing::TestDb;
use wantloop_store::{NewLabel, Store};

use super::*;
use crate::{EngineConfig, IndexLocation};

const TOPICS: [(&str, [&str; 6]); 4] = [
    ("bicycles", ["bike", "pedal", "saddle", "gears", "tyre", "frame"]),
    ("tutoring", ["maths", "tutor", "lesson", "exam", "physics", "homework"]),
    ("furniture", ["desk", "sofa", "chair", "wardrobe", "shelf", "table"]),
    ("home_services", ["plumber", "leak", "pipe", "repair", "drain", "boiler"]),
];
const NOISE: [&str; 8] = ["please", "need", "urgent", "cheap", "today", "weekend", "near", "good"];

/// Synthetic labelled demands: two topic words and two noise words each.
fn examples(n: usize, seed: u64) -> Vec<LabelledText> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let (label, words) = TOPICS[rng.random_range(0..TOPICS.len())];
            let text = format!(
                "{} {} {} {} #{i}",
                NOISE[rng.random_range(0..NOISE.len())],
                words[rng.random_range(0..6)],
                NOISE[rng.random_range(0..NOISE.len())],
                words[rng.random_range(0..6)],
            );
            LabelledText { text, label: label.into() }
        })
        .collect()
}

async fn engine(db: &TestDb, tune: impl FnOnce(&mut RetrainConfig)) -> Engine {
    let mut config = EngineConfig {
        database_url: db.url.clone(),
        index: IndexLocation::Memory,
        ..EngineConfig::embedded(".".as_ref())
    };
    config.retrain.train.epochs = 5;
    tune(&mut config.retrain);
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    Engine::with_store(store, &config).await.unwrap()
}

/// Operator labels, as the review queue records them (the source that counts).
async fn operator_labels(store: &dyn Store, n: usize, seed: u64, garbage: bool) {
    let mut rng = StdRng::seed_from_u64(seed);
    let labels: Vec<NewLabel> = examples(n, seed)
        .into_iter()
        .map(|e| {
            let label = if garbage { TOPICS[rng.random_range(0..TOPICS.len())].0.to_string() } else { e.label };
            NewLabel { text: format!("reviewed {}", e.text), label, source: "operator".into() }
        })
        .collect();
    assert_eq!(store.add_labels(&labels).await.unwrap(), n as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retrain_keeps_the_base_data_and_judges_on_a_real_held_out_set() {
    let db = TestDb::sqlite().await.unwrap();
    let engine = engine(&db, |_| {}).await;
    let store = engine.store().as_ref();
    assert_eq!(keep_as_base(store, &examples(3_000, 1), "synthetic").await.unwrap(), 3_000);
    // Keeping the same base data again adds nothing.
    assert_eq!(keep_as_base(store, &examples(3_000, 1), "synthetic").await.unwrap(), 0);

    let first = engine.retrain_classifier().await.unwrap();
    assert!(first.activated, "{first:?}");
    assert!(first.score > 0.9, "{first:?}");
    assert_eq!(first.examples, 3_000);
    let held_out = first.model.metrics["held_out"].as_u64().unwrap();
    assert!((200..=400).contains(&held_out), "about a tenth is held out: {held_out}");

    // A fuzzer labels a few hundred demands at random: the base data still
    // dominates, and the gate measures on hundreds of examples, not a few.
    operator_labels(store, 300, 2, true).await;
    let second = engine.retrain_classifier().await.unwrap();
    assert_eq!(second.examples, 3_300);
    let c = second.decision.comparison.clone().expect("compared with the active model");
    assert!(c.held_out > 200, "{c:?}");
    assert!(second.score > 0.8, "the model is trained on the base data too: {second:?}");
    assert_eq!(second.activated, c.difference >= -2.0 * c.standard_error, "{second:?}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retrain_is_due_only_when_due() {
    let db = TestDb::sqlite().await.unwrap();
    let engine = engine(&db, |r| {
        r.min_new_labels = 50;
        r.min_interval = Duration::ZERO;
    })
    .await;
    let store = engine.store().as_ref();
    let config = engine.config.retrain.clone();
    assert!(!classifier::due(store, &config).await.unwrap(), "nothing to train on");
    keep_as_base(store, &examples(600, 3), "synthetic").await.unwrap();
    assert!(classifier::due(store, &config).await.unwrap(), "labels and no classifier");
    engine.retrain_classifier().await.unwrap();
    assert!(!classifier::due(store, &config).await.unwrap(), "the run reset the count");
    operator_labels(store, 49, 4, false).await;
    assert!(!classifier::due(store, &config).await.unwrap(), "49 < 50 new labels");
    // Base data is not new evidence.
    keep_as_base(store, &examples(500, 5), "more").await.unwrap();
    assert!(!classifier::due(store, &config).await.unwrap());
    operator_labels(store, 1, 6, false).await;
    assert!(classifier::due(store, &config).await.unwrap(), "50 new labels");
    // The minimum interval holds even when labels are due.
    let rested = RetrainConfig { min_interval: Duration::from_secs(3_600), ..config.clone() };
    assert!(!classifier::due(store, &rested).await.unwrap());
    engine.retrain_classifier().await.unwrap();
    assert!(!classifier::due(store, &config).await.unwrap(), "a run that was not activated resets too");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_retrain_per_kind_at_a_time() {
    let db = TestDb::sqlite().await.unwrap();
    let engine = engine(&db, |_| {}).await;
    keep_as_base(engine.store().as_ref(), &examples(200, 7), "synthetic").await.unwrap();
    let running = engine.retraining.classifier.try_lock().unwrap();
    assert!(matches!(engine.retrain_classifier().await, Err(EngineError::Busy(_))));
    drop(running);
    engine.retrain_classifier().await.unwrap();
    assert_eq!(engine.store().list_models(Some("classifier")).await.unwrap().len(), 1);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_choice_yields_only_to_a_better_model() {
    let db = TestDb::sqlite().await.unwrap();
    let engine = engine(&db, |_| {}).await;
    let store = engine.store().as_ref();
    keep_as_base(store, &examples(3_000, 8), "synthetic").await.unwrap();
    let first = engine.retrain_classifier().await.unwrap();
    // The same data trains the same model: no worse, so it replaces a model
    // the scheduler chose…
    let same = engine.retrain_classifier().await.unwrap();
    assert!(same.activated, "{:?}", same.decision);
    assert_eq!(same.decision.comparison.as_ref().unwrap().difference, 0.0);
    // …but not one an operator chose (a rollback to the first).
    engine.activate_model(first.model.id, None).await.unwrap();
    let again = engine.retrain_classifier().await.unwrap();
    assert!(!again.activated, "{:?}", again.decision);
    assert!(again.decision.reason.contains("operator"), "{}", again.decision.reason);
    assert_eq!(store.active_model("classifier").await.unwrap().unwrap().id, first.model.id);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_few_held_out_examples_never_replace_a_model() {
    let db = TestDb::sqlite().await.unwrap();
    let engine = engine(&db, |_| {}).await;
    keep_as_base(engine.store().as_ref(), &examples(300, 9), "synthetic").await.unwrap();
    let first = engine.retrain_classifier().await.unwrap();
    assert!(first.activated, "the first model has nothing to beat");
    let second = engine.retrain_classifier().await.unwrap();
    assert!(!second.activated, "{:?}", second.decision);
    assert!(second.decision.reason.contains("fewer than the 200 needed"), "{}", second.decision.reason);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_versions_are_pruned_but_never_the_active_or_previous_one() {
    let db = TestDb::sqlite().await.unwrap();
    let engine = engine(&db, |r| r.keep_versions = 1).await;
    let store = engine.store().as_ref();
    keep_as_base(store, &examples(300, 10), "synthetic").await.unwrap();
    let first = engine.retrain_classifier().await.unwrap();
    let mut pruned = Vec::new();
    for _ in 0..4 {
        pruned.extend(engine.retrain_classifier().await.unwrap().pruned);
    }
    let kept: Vec<i64> = store.list_models(Some("classifier")).await.unwrap().iter().map(|m| m.id).collect();
    assert_eq!(kept.len(), 2, "the active one and the newest: {kept:?}");
    assert!(kept.contains(&first.model.id), "the active model stays");
    assert_eq!(pruned.len(), 3);
    db.cleanup().await;
}

/// `n` questions kept and answered with `entry`, as an operator's answers.
async fn answered_questions(store: &dyn Store, n: usize, from: usize, entry: i64) {
    for i in from..from + n {
        let kept = wantloop_store::NewAskedQuestion {
            question: format!("第 {i} 个问题：需求怎么发"),
            lang: "zh".into(),
            outcome: "refused".into(),
            confidence: 0.1,
            best_entry: None,
        };
        let id = store.log_question(&kept).await.unwrap().id;
        store.resolve_question(id, Some(entry), None).await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paraphrase_retrain_is_due_on_new_operator_answers() {
    let db = TestDb::sqlite().await.unwrap();
    let engine = engine(&db, |r| {
        r.min_interval = Duration::ZERO;
        r.min_held_out_questions = 6;
    })
    .await;
    let store = engine.store().as_ref();
    let config = engine.config.retrain.clone();
    // The default minimum (30 held out) needs 150 answers before a run is due.
    let strict = RetrainConfig { min_held_out_questions: 30, ..config.clone() };
    engine.import_faq("faq.jsonl", include_str!("../../../cli/demo/faq.jsonl")).await.unwrap();
    let entry = engine.faq_entries(0, 1).await.unwrap()[0].id;
    assert!(!paraphrase::due(store, &config).await.unwrap(), "no answers");
    answered_questions(store, 29, 0, entry).await;
    assert!(!paraphrase::due(store, &config).await.unwrap(), "29 < 30 answers");
    answered_questions(store, 1, 29, entry).await;
    assert!(paraphrase::due(store, &config).await.unwrap(), "30 answers and no scorer");
    assert!(!paraphrase::due(store, &strict).await.unwrap(), "30 answers hold out 6, fewer than 30");
    let out = engine.retrain_paraphrase().await.unwrap();
    assert_eq!(out.model.params["answered"], 30);
    assert!(!paraphrase::due(store, &config).await.unwrap(), "the run saw them all");
    answered_questions(store, 49, 30, entry).await;
    assert!(!paraphrase::due(store, &config).await.unwrap(), "49 < 50 new, and the scorer is young");
    answered_questions(store, 1, 79, entry).await;
    assert!(paraphrase::due(store, &config).await.unwrap(), "50 new answers");
    let rested = RetrainConfig { min_interval: Duration::from_secs(3_600), ..config.clone() };
    assert!(!paraphrase::due(store, &rested).await.unwrap());
    db.cleanup().await;
}
