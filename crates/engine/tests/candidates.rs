//! Candidates, matches and the reverse question read only the best rows the
//! index names (ranked by the index's copy of the scoring fields), and must
//! answer exactly as scoring every hit's row would: on SQLite and PostgreSQL.

use std::collections::HashMap;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wantloop_core::demand::{DemandInput, LocationInput};
use wantloop_core::offer::OfferInput;
use wantloop_core::{Demand, DemandStatus, Offer};
use wantloop_engine::{Engine, EngineConfig, IndexLocation, indexer};
use wantloop_match::constraints::violation;
use wantloop_match::{Scorer, Scoring, TextScores, plan_for_demand};
use wantloop_store::testing::TestDb;
use wantloop_store::{DemandFilter, OfferFilter, Page, Store};

const WORDS: &[&str] = &["自行车", "山地", "儿童", "折叠", "公路车", "头盔", "车灯", "九成新", "轻便", "变速"];

fn text(rng: &mut StdRng) -> String {
    (0..rng.random_range(1..4)).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect::<Vec<_>>().join("")
}

fn near(rng: &mut StdRng) -> Option<LocationInput> {
    Some(LocationInput { lat: 30.0 + rng.random_range(0.0..0.5), lon: 120.0 + rng.random_range(0.0..0.5) })
}

async fn market(engine: &Engine, rng: &mut StdRng) {
    for i in 0..400 {
        let o = OfferInput {
            provider: format!("p{}", i % 37),
            text: text(rng),
            category: "bicycles".into(),
            // Few distinct prices, so equal scores and the price tie-break occur.
            price: 1_000 * rng.random_range(1..8),
            location: near(rng),
            capacity: Some(rng.random_range(1..3)),
            ..Default::default()
        };
        engine.store().create_offer(&o.parse().unwrap(), None).await.unwrap();
    }
    for i in 0..40 {
        let d = DemandInput {
            requester: format!("u{i}"),
            text: text(rng),
            category: Some("bicycles".into()),
            budget: (i % 3 != 0).then(|| 1_000 * rng.random_range(3..9)),
            location: near(rng),
            max_distance_km: (i % 4 != 0).then(|| rng.random_range(10.0..40.0)),
            quantity: Some(rng.random_range(1..4)),
            ..Default::default()
        };
        engine.create_demand(&d.parse().unwrap(), None).await.unwrap();
    }
    indexer::catch_up(engine.store().as_ref(), engine.index()).await.unwrap();
}

async fn all_offers(store: &dyn Store) -> HashMap<i64, Offer> {
    let rows = store.list_offers(&OfferFilter::default(), Page::first(Page::MAX_LIMIT)).await.unwrap();
    rows.into_iter().map(|o| (o.id, o)).collect()
}

/// The answer from every hit's row: what the engine gave before it read
/// only the best rows.
fn every_hit(d: &Demand, offers: &HashMap<i64, Offer>, text: &TextScores) -> Vec<Offer> {
    text.keys().filter_map(|id| offers.get(id)).filter(|o| violation(d, o).is_none()).cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_the_best_rows_answers_as_scoring_every_hit() {
    let mut dbs = vec![TestDb::sqlite().await.unwrap()];
    dbs.extend(TestDb::postgres().await.unwrap());
    for db in dbs {
        best_rows_answer_as_every_hit(&db).await;
        db.cleanup().await;
    }
}

async fn best_rows_answer_as_every_hit(db: &TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let config = EngineConfig {
        database_url: db.url.clone(),
        index: IndexLocation::Memory,
        ..EngineConfig::embedded(std::path::Path::new("."))
    };
    let engine = Engine::with_store(store.clone(), &config).await.unwrap();
    market(&engine, &mut StdRng::seed_from_u64(11)).await;
    let m = engine.matching().clone();
    let v1 = Scoring::Weights(m.weights);
    let open = DemandFilter { status: Some(DemandStatus::Open), ..Default::default() };
    let demands = store.list_demands(&open, Page::first(Page::MAX_LIMIT)).await.unwrap();
    let (mut compared, mut partly_read) = (0, 0);
    for d in &demands {
        let offers = all_offers(store.as_ref()).await;
        let text = engine.text_scores(d).unwrap();
        let got = engine.candidates_for_demand(d.id, 5).await.unwrap();
        let now = wantloop_core::time::now_ms();
        let scorer = Scorer::new(d, &v1, now).with_text_scores(Some(&text));
        let mut want: Vec<(f64, i64, i64)> =
            every_hit(d, &offers, &text).iter().map(|o| (scorer.score(&scorer.features(o)), o.price, o.id)).collect();
        want.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        want.truncate(5);
        let got_ids: Vec<i64> = got.iter().map(|c| c.offer.id).collect();
        assert_eq!(got_ids, want.iter().map(|w| w.2).collect::<Vec<_>>(), "demand {}", d.id);
        for (c, w) in got.iter().zip(&want) {
            // Scored a moment apart: freshness moves by a hair.
            assert!((c.score - w.0).abs() < 1e-6, "{} vs {}", c.score, w.0);
        }
        compared += 1;
        partly_read += usize::from(text.len() > 10);
    }
    assert!(compared >= 30 && partly_read >= 20, "{compared} demands, {partly_read} with more hits than read");

    // The reverse question, for offers that still have free units.
    indexer::catch_up(store.as_ref(), engine.index()).await.unwrap();
    let offers = all_offers(store.as_ref()).await;
    let demands = store.list_demands(&open, Page::first(Page::MAX_LIMIT)).await.unwrap();
    let mut reverse = 0;
    for o in offers.values().filter(|o| o.free_units() > 0).take(60) {
        let hits = engine.index().demands_for_offer(o, 100).unwrap();
        let best = hits.first().map_or(1.0, |h| f64::from(h.relevance)).max(f64::MIN_POSITIVE);
        let now = wantloop_core::time::now_ms();
        let mut want: Vec<(f64, i64)> = hits
            .iter()
            .filter_map(|h| demands.iter().find(|d| d.id == h.id).map(|d| (d, f64::from(h.relevance) / best)))
            .filter(|(d, _)| d.open_units() > 0 && violation(d, o).is_none())
            .map(|(d, t)| {
                let own: TextScores = [(o.id, t)].into_iter().collect();
                let scorer = Scorer::new(d, &v1, now).with_text_scores(Some(&own));
                (scorer.score(&scorer.features(o)), d.id)
            })
            .collect();
        want.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        want.truncate(3);
        let got: Vec<i64> = engine.demands_for_offer(o.id, 3).await.unwrap().iter().map(|s| s.demand.id).collect();
        assert_eq!(got, want.iter().map(|w| w.1).collect::<Vec<_>>(), "offer {}", o.id);
        reverse += usize::from(!got.is_empty());
    }
    assert!(reverse >= 20, "{reverse} offers with demands to compare");

    let mut matched = 0;
    for d in &demands {
        let offers = all_offers(store.as_ref()).await;
        let text = engine.text_scores(d).unwrap();
        let now = wantloop_core::time::now_ms();
        // A match proposes what the plan over every hit's row proposes.
        let rows = every_hit(d, &offers, &text);
        let plan = plan_for_demand(d, &rows, &v1, m.min_score, now, Some(&text), None);
        let proposed = engine.match_demand(d.id, None).await.unwrap().done().unwrap();
        let got: Vec<(i64, i64)> = proposed.matches.iter().map(|x| (x.offer_id, x.units)).collect();
        let want: Vec<(i64, i64)> = plan.iter().map(|p| (p.offer_id, p.units)).collect();
        assert_eq!(sorted(got), sorted(want), "match of demand {}", d.id);
        matched += usize::from(!proposed.matches.is_empty());
    }
    assert!(matched >= 20, "{matched} demands matched");
}

fn sorted(mut v: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    v.sort_unstable();
    v
}
