//! Leader-only jobs across two engines on one store: a holder paused past
//! its lease (between taking it and writing) is fenced off when it wakes,
//! whatever the lease service, and a job's period runs once. Run with the
//! in-process lease (shared by both engines, as if one process) and with a
//! real Redis lease, on SQLite and, when configured, PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use wantloop_cluster::{RedisLease, testing};
use wantloop_core::demand::DemandInput;
use wantloop_core::{MatchStatus, OfferInput};
use wantloop_engine::seams::{InProcessLease, Lease, Seams};
use wantloop_engine::{Engine, EngineConfig, IndexLocation};
use wantloop_store::testing::TestDb;
use wantloop_store::{Classification, NewMatch, Store, StoreError};

async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![TestDb::sqlite().await.unwrap()];
    dbs.extend(TestDb::postgres().await.unwrap());
    dbs
}

async fn redis_lease() -> Option<Arc<dyn Lease>> {
    let (_, conn) = testing::redis().await?;
    Some(Arc::new(RedisLease::new(conn, testing::unique_prefix(':'))))
}

/// A proposal that is already due to expire.
async fn due_proposal(store: &dyn Store) -> i64 {
    let offer = OfferInput {
        provider: "bob".into(),
        text: "九成新山地自行车".into(),
        category: "bicycles".into(),
        price: 30_000,
        capacity: Some(1),
        ..Default::default()
    };
    let o = store.create_offer(&offer.parse().unwrap(), None).await.unwrap().done().unwrap();
    let demand = DemandInput { requester: "amy".into(), text: "想买自行车".into(), ..Default::default() };
    let d = store
        .create_demand(&demand.parse().unwrap(), &Classification::given("bicycles"), None)
        .await
        .unwrap()
        .done()
        .unwrap();
    let m = NewMatch { offer_id: o.id, units: 1, score: 0.5, features: Default::default(), ttl_ms: Some(1) };
    let p = store.propose_matches(d.id, &[m], None).await.unwrap().done().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    p.matches[0].id
}

async fn paused_holder_is_fenced_off(db: &TestDb, lease: Arc<dyn Lease>) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let config = EngineConfig {
        database_url: db.url.clone(),
        index: IndexLocation::Memory,
        ..EngineConfig::embedded(".".as_ref())
    };
    let seams = Seams { lease, ..Seams::in_process() };
    let a = Engine::with_seams(store.clone(), &config, seams.clone()).await.unwrap();
    let b = Engine::with_seams(store.clone(), &config, seams).await.unwrap();
    let m = due_proposal(store.as_ref()).await;

    let every = Duration::from_millis(100); // a lease of 300 ms
    let a_turn = a.lead("expiry", every).await.expect("the first node takes the free lease");
    assert!(b.lead("expiry", every).await.is_none(), "held by the first node");
    // The first node stalls (a GC pause, SIGSTOP) past its lease...
    tokio::time::sleep(Duration::from_millis(500)).await;
    let b_turn = b.lead("expiry", every).await.expect("the second node takes the expired lease");
    // ...and wakes to write with the token it had: refused, nothing changed.
    match a_turn.expire_due(wantloop_core::time::now_ms()).await {
        Err(StoreError::Fenced { token, highest, .. }) => assert!(token < highest),
        other => panic!("a late holder's write must be refused, got {other:?}"),
    }
    assert_eq!(store.get_match(m).await.unwrap().status, MatchStatus::Proposed);
    assert!(a.lead("expiry", every).await.is_none(), "the late node does not get the lease back");
    assert_eq!(b_turn.expire_due(wantloop_core::time::now_ms()).await.unwrap().matches_expired, 1);
    assert_eq!(store.get_match(m).await.unwrap().status, MatchStatus::Expired);

    // A period runs once, even on the node that holds the lease.
    let hour = Duration::from_secs(3600);
    let ms_into_hour = wantloop_core::time::now_ms() % 3_600_000;
    if ms_into_hour > 3_590_000 {
        tokio::time::sleep(Duration::from_millis((3_600_000 - ms_into_hour + 100) as u64)).await;
    }
    assert!(b.lead("retention", hour).await.is_some());
    assert!(b.lead("retention", hour).await.is_none(), "this hour's run is recorded");
    assert!(a.lead("retention", hour).await.is_none(), "on every node");
    let runs = store.job_runs("expiry", 0, 100).await.unwrap();
    assert!(runs.windows(2).all(|w| w[0].token <= w[1].token), "tokens never go back: {runs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_holder_is_fenced_off_with_the_in_process_lease() {
    for db in databases().await {
        paused_holder_is_fenced_off(&db, Arc::new(InProcessLease::default())).await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_holder_is_fenced_off_with_the_redis_lease() {
    for db in databases().await {
        // A lease namespace per database: the leases outlive one run.
        let Some(lease) = redis_lease().await else { return };
        paused_holder_is_fenced_off(&db, lease).await;
        db.cleanup().await;
    }
}
