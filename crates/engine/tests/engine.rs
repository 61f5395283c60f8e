//! The engine as the front doors open it: one configuration, the index caught
//! up at open, cached searches never stale after indexing, and a second
//! process on the same data working on a private copy of a busy index.

use std::sync::Arc;

use wantloop_core::NewOffer;
use wantloop_engine::{Engine, EngineConfig, IndexLocation, indexer};
use wantloop_search::{Kind, SearchRequest};
use wantloop_store::Store;
use wantloop_store::testing::TestDb;

fn config(db: &TestDb, index: IndexLocation) -> EngineConfig {
    EngineConfig { database_url: db.url.clone(), index, ..EngineConfig::embedded(std::path::Path::new(".")) }
}

async fn post_offer(store: &dyn Store, text: &str) -> i64 {
    let offer = wantloop_core::offer::OfferInput {
        provider: "bob".into(),
        text: text.into(),
        category: "bicycles".into(),
        price: 10_000,
        capacity: Some(1),
        ..Default::default()
    };
    let offer: NewOffer = offer.parse().unwrap();
    store.create_offer(&offer, None).await.unwrap().done().unwrap().id
}

fn bikes() -> SearchRequest {
    SearchRequest { q: "自行车".into(), kind: Some(Kind::Offer), limit: 10, ..Default::default() }
}

/// A fresh SQLite database, and a PostgreSQL one when the suite has a server.
async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![TestDb::sqlite().await.unwrap()];
    dbs.extend(TestDb::postgres().await.unwrap());
    dbs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_catches_up_and_cached_searches_follow_the_index() {
    for db in databases().await {
        open_catches_up_and_cached_searches_follow(db).await;
    }
}

async fn open_catches_up_and_cached_searches_follow(db: TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let first = post_offer(store.as_ref(), "九成新山地自行车").await;
    let engine = Engine::with_store(store.clone(), &config(&db, IndexLocation::Memory)).await.unwrap();
    assert_eq!(engine.index().cursor(), store.last_event_id().await.unwrap(), "caught up at open");
    let hits = |r: &wantloop_search::SearchResults| r.hits.iter().map(|h| h.id).collect::<Vec<_>>();
    assert_eq!(hits(&engine.search(&bikes()).await.unwrap()), [first]);
    assert_eq!(hits(&engine.search(&bikes()).await.unwrap()), [first]);
    assert_eq!(engine.seams().cache.stats().hits, 1, "the repeat is served from the cache");

    let second = post_offer(store.as_ref(), "儿童自行车").await;
    indexer::catch_up(store.as_ref(), engine.index()).await.unwrap();
    let mut now = hits(&engine.search(&bikes()).await.unwrap());
    now.sort_unstable();
    assert_eq!(now, [first, second], "no stale cached answer once the write is indexed");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_engine_on_a_busy_index_folder_searches_a_private_copy() {
    for db in databases().await {
        second_engine_on_a_busy_index(db).await;
    }
}

async fn second_engine_on_a_busy_index(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let id = post_offer(store.as_ref(), "山地自行车").await;
    let cfg = config(&db, IndexLocation::Dir(dir.path().join("search")));
    let owner = Engine::with_store(store.clone(), &cfg).await.unwrap();
    let second = Engine::with_store(store.clone(), &cfg).await.unwrap();
    assert!(!owner.index_is_private_copy() && second.index_is_private_copy());
    assert_eq!(second.search(&bikes()).await.unwrap().hits[0].id, id);
    drop((owner, second));
    let reopened = Engine::with_store(store, &cfg).await.unwrap();
    assert!(!reopened.index_is_private_copy(), "the folder is free again once its writer is gone");
    db.cleanup().await;
}
