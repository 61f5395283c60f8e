//! The learned ranker in the loop, on SQLite: matches record the features
//! they were scored with, outcomes become graded rows from exactly those
//! features, a ranker trained on them goes live only when it beats what
//! serves on the newest demands, then scores matches with explanations that
//! add up, and an operator can roll it back.

use std::sync::Arc;

use wantloop_core::demand::{DemandInput, LocationInput};
use wantloop_core::offer::OfferInput;
use wantloop_core::{MatchStatus, MatchTransition};
use wantloop_engine::{Engine, EngineConfig, IndexLocation, indexer};
use wantloop_ml::ranker::{self, RankSet};
use wantloop_store::testing::TestDb;
use wantloop_store::{NewModel, Store};

/// People here fulfil what costs at least this and reject what costs less
/// (a preference the v1 weights, which favour the cheaper, get backwards).
const LIKED_FROM: i64 = 35_000;
const PRICES: [i64; 6] = [10_000, 15_000, 20_000, 40_000, 50_000, 60_000];

async fn open(db: &TestDb, min_held_out_queries: usize) -> Engine {
    let mut config = EngineConfig {
        database_url: db.url.clone(),
        index: IndexLocation::Memory,
        ..EngineConfig::embedded(".".as_ref())
    };
    config.retrain.min_held_out_queries = min_held_out_queries;
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    Engine::with_store(store, &config).await.unwrap()
}

fn here() -> Option<LocationInput> {
    Some(LocationInput { lat: 30.27, lon: 120.15 })
}

/// One round: six single-unit offers, three demands of two units each.
async fn post_round(engine: &Engine, round: usize) -> Vec<i64> {
    for (i, price) in PRICES.iter().enumerate() {
        let o = OfferInput {
            provider: format!("p{round}-{i}"),
            text: "二手山地自行车 九成新".into(),
            category: "bicycles".into(),
            price: *price,
            location: here(),
            capacity: Some(1),
            ..Default::default()
        };
        engine.store().create_offer(&o.parse().unwrap(), None).await.unwrap();
    }
    let mut ids = Vec::new();
    for i in 0..3 {
        let d = DemandInput {
            requester: format!("u{round}-{i}"),
            text: "想买一台二手山地自行车".into(),
            category: Some("bicycles".into()),
            budget: Some(100_000),
            location: here(),
            max_distance_km: Some(20.0),
            quantity: Some(2),
            ..Default::default()
        };
        ids.push(engine.create_demand(&d.parse().unwrap(), None).await.unwrap().done().unwrap().id);
    }
    indexer::catch_up(engine.store().as_ref(), engine.index()).await.unwrap();
    ids
}

/// Plays the people's preference on proposals: accepted and fulfilled from
/// `LIKED_FROM` up; below it rejected, and the offer withdrawn (sold
/// elsewhere), so every round's offers are new.
async fn decide(engine: &Engine, proposed: &[wantloop_core::Match]) {
    let store = engine.store();
    for m in proposed {
        let offer = store.get_offer(m.offer_id).await.unwrap();
        if offer.price >= LIKED_FROM {
            store.transition_match(m.id, MatchTransition::Accept, None, None).await.unwrap();
            store.transition_match(m.id, MatchTransition::Fulfil, None, None).await.unwrap();
        } else {
            store.transition_match(m.id, MatchTransition::Reject, None, None).await.unwrap();
            store.withdraw_offer(offer.id, None).await.unwrap();
        }
    }
}

/// Matches every demand of a round, then decides every proposal.
async fn play_round(engine: &Engine, demands: &[i64]) {
    let mut proposed = Vec::new();
    for d in demands {
        proposed.extend(engine.match_demand(*d, None).await.unwrap().done().unwrap().matches);
    }
    decide(engine, &proposed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ranker_learns_from_outcomes_goes_live_on_evidence_and_explains_its_scores() {
    let db = TestDb::sqlite().await.unwrap();
    let engine = open(&db, 10).await;
    let store = engine.store().clone();

    // Online = offline: what candidates showed is what the match stored.
    let first = post_round(&engine, 0).await;
    let shown = engine.candidates_for_demand(first[0], 10).await.unwrap();
    let proposed = engine.match_demand(first[0], None).await.unwrap().done().unwrap().matches;
    assert_eq!(proposed.len(), 2);
    for m in &proposed {
        let c = shown.iter().find(|c| c.offer.id == m.offer_id).expect("a proposed offer was a candidate");
        let (online, stored) = (c.features.vector(), m.features.vector());
        for (i, name) in wantloop_core::FeatureScores::NAMES.iter().enumerate() {
            // Scored a moment apart: freshness moves by a hair.
            let tolerance = if *name == "freshness" { 1e-6 } else { 0.0 };
            assert!((online[i] - stored[i]).abs() <= tolerance, "{name}: {} vs {}", online[i], stored[i]);
        }
        let e = m.features.explanation.expect("a stored match carries its explanation");
        assert_eq!(e.model_id, None);
        assert!((e.bias + e.contributions.sum() - m.score).abs() < 1e-12);
    }
    play_round(&engine, &first[1..]).await;
    decide(&engine, &proposed).await;
    for round in 1..40 {
        let demands = post_round(&engine, round).await;
        play_round(&engine, &demands).await;
    }

    // Offline: every labelled row is a stored match's features and outcome.
    let outcomes = engine.outcomes().await.unwrap();
    assert_eq!(outcomes.rows(), 40 * 6);
    for (_, row) in outcomes.query_numbers() {
        let m = store.get_match(row.match_id).await.unwrap();
        assert_eq!(row.features, m.features);
        let want = if m.status == MatchStatus::Fulfilled { 2.0 } else { 0.0 };
        assert_eq!(row.label, want, "{:?}", m.status);
    }

    // v1 proposes the cheapest first, which people reject: a ranker must do better.
    let trained = engine.retrain_ranker().await.unwrap();
    assert!(trained.activated, "{:?}", trained.decision);
    let c = trained.decision.comparison.clone().unwrap();
    assert!(c.difference > 2.0 * c.standard_error && c.held_out >= 10, "{c:?}");
    assert_eq!(engine.ranker().get().map(|l| l.info.id), Some(trained.model.id));

    let next = post_round(&engine, 99).await;
    let proposed = engine.match_demand(next[0], None).await.unwrap().done().unwrap().matches;
    for m in &proposed {
        let price = store.get_offer(m.offer_id).await.unwrap().price;
        assert!(price >= LIKED_FROM, "the ranker proposed an offer at {price}");
        let e = m.features.explanation.unwrap();
        assert_eq!(e.model_id, Some(trained.model.id));
        assert!((e.bias + e.contributions.sum() - m.score).abs() < 1e-9, "{e:?} vs {}", m.score);
        // The price feature is what separates the offers here.
        assert!(e.contributions.price.abs() > 0.0, "{e:?}");
    }
    // The reverse direction is scored by the ranker too.
    let free = store
        .list_offers(&Default::default(), wantloop_store::Page::first(500))
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.free_units() > 0 && o.price >= LIKED_FROM)
        .unwrap();
    for sd in engine.demands_for_offer(free.id, 5).await.unwrap() {
        let e = sd.features.explanation.unwrap();
        assert_eq!(e.model_id, Some(trained.model.id));
        assert!((e.bias + e.contributions.sum() - sd.score).abs() < 1e-9);
    }

    // Too few held-out demands decide nothing: registered, not activated.
    let strict = open(&db, 10_000).await;
    let refused = strict.retrain_ranker().await.unwrap();
    assert!(!refused.activated && refused.decision.reason.contains("fewer than the 10000 needed"), "{refused:?}");
    assert_eq!(strict.ranker().get().map(|l| l.info.id), Some(trained.model.id));

    // An operator moves between versions, and back (rollback).
    engine.activate_model(refused.model.id, None).await.unwrap();
    assert_eq!(engine.ranker().get().map(|l| l.info.id), Some(refused.model.id));
    engine.activate_model(trained.model.id, None).await.unwrap();
    assert_eq!(engine.ranker().get().map(|l| l.info.id), Some(trained.model.id));

    // A ranker trained on other features is refused before it can serve.
    let mut other = RankSet::new(vec!["a".into(), "b".into()]);
    other.push_query("q", [(1.0, vec![1.0, 0.0]), (0.0, vec![0.0, 1.0])]);
    let (foreign, _) = ranker::fit(&other, None, &ranker::Params { rounds: 2, ..Default::default() }).unwrap();
    let info = store
        .register_model(&NewModel {
            kind: "ranker".into(),
            data_hash: "x".into(),
            metrics: serde_json::json!({}),
            params: serde_json::json!({}),
            blob: foreign.to_bytes(),
        })
        .await
        .unwrap();
    let err = engine.activate_model(info.id, None).await.unwrap_err().to_string();
    assert!(err.contains("the ranker reads"), "{err}");
}
