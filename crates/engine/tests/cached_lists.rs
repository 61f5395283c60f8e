//! Candidate and recommendation lists are cached under the store's event
//! position: two nodes sharing a cache (as with Redis) serve each other's
//! lists, and a write acknowledged by either is never answered from a list
//! cached before it.

use std::sync::Arc;

use wantloop_core::demand::DemandInput;
use wantloop_core::offer::OfferInput;
use wantloop_engine::recommend::RecommendOptions;
use wantloop_engine::seams::{InProcessCache, Seams};
use wantloop_engine::{Engine, EngineConfig, IndexLocation};
use wantloop_store::Store;
use wantloop_store::testing::TestDb;

async fn offer(store: &dyn Store, provider: &str, text: &str) -> i64 {
    let o = OfferInput {
        provider: provider.into(),
        text: text.into(),
        category: "bicycles".into(),
        price: 20_000,
        capacity: Some(1),
        ..Default::default()
    };
    store.create_offer(&o.parse().unwrap(), None).await.unwrap().done().unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_node_is_never_answered_from_a_list_cached_before_it() {
    let db = TestDb::sqlite().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let config = EngineConfig {
        database_url: db.url.clone(),
        index: IndexLocation::Memory,
        ..EngineConfig::embedded(".".as_ref())
    };
    let seams = Seams { cache: Arc::new(InProcessCache::new(1 << 20)), ..Seams::in_process() };
    let a = Engine::with_seams(store.clone(), &config, seams.clone()).await.unwrap();
    let b = Engine::with_seams(store.clone(), &config, seams.clone()).await.unwrap();
    let first = offer(store.as_ref(), "bob", "山地自行车").await;
    let demand = DemandInput {
        requester: "amy".into(),
        text: "想买山地自行车".into(),
        category: Some("bicycles".into()),
        ..Default::default()
    };
    let d = a.create_demand(&demand.parse().unwrap(), None).await.unwrap().done().unwrap().id;

    let on_a = a.candidates_for_demand(d, 10).await.unwrap();
    assert_eq!(on_a.iter().map(|c| c.offer.id).collect::<Vec<_>>(), vec![first]);
    let hits = seams.cache.stats().hits;
    let on_b = b.candidates_for_demand(d, 10).await.unwrap();
    assert_eq!(on_b.iter().map(|c| c.offer.id).collect::<Vec<_>>(), vec![first]);
    assert_eq!(seams.cache.stats().hits, hits + 1, "the second node serves the first node's list");

    // A write acknowledged through node A: node B's next list has it.
    let second = offer(store.as_ref(), "carl", "山地自行车 全新").await;
    let mut on_b: Vec<i64> = b.candidates_for_demand(d, 10).await.unwrap().iter().map(|c| c.offer.id).collect();
    on_b.sort_unstable();
    assert_eq!(on_b, vec![first, second]);
    let mut reverse: Vec<i64> = b.demands_for_offer(second, 10).await.unwrap().iter().map(|c| c.demand.id).collect();
    reverse.sort_unstable();
    assert_eq!(reverse, vec![d]);

    // Recommendations: a withdrawn offer leaves the cached list at once.
    let options = RecommendOptions { k: 10, ..Default::default() };
    let listed = |r: wantloop_engine::recommend::Recommendations| {
        let mut ids: Vec<i64> = r.items.iter().map(|i| i.offer.id).collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(listed(a.recommend("dave", &options).await.unwrap()), vec![first, second]);
    let hits = seams.cache.stats().hits;
    assert_eq!(listed(b.recommend("dave", &options).await.unwrap()), vec![first, second]);
    assert_eq!(seams.cache.stats().hits, hits + 1);
    store.withdraw_offer(first, None).await.unwrap();
    assert_eq!(listed(b.recommend("dave", &options).await.unwrap()), vec![second]);
    db.cleanup().await;
}
