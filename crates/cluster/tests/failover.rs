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

/// An engine configuration on `db` with an in-memory index.
fn config(db: &TestDb) -> EngineConfig {
    EngineConfig { database_url: db.url.clone(), index: IndexLocation::Memory, ..EngineConfig::embedded(".".as_ref()) }
}

/// Two nodes on one store, sharing `lease`.
async fn two_nodes(store: &Arc<dyn Store>, config: &EngineConfig, lease: Arc<dyn Lease>) -> (Engine, Engine) {
    let seams = Seams { lease, ..Seams::in_process() };
    let a = Engine::with_seams(store.clone(), config, seams.clone()).await.unwrap();
    let b = Engine::with_seams(store.clone(), config, seams).await.unwrap();
    (a, b)
}

/// A bicycle on offer from `provider`; its id.
async fn bike_offer(store: &dyn Store, provider: &str, capacity: i64) -> i64 {
    let offer = OfferInput {
        provider: provider.into(),
        text: "九成新山地自行车".into(),
        category: "bicycles".into(),
        price: 30_000,
        capacity: Some(capacity),
        ..Default::default()
    };
    store.create_offer(&offer.parse().unwrap(), None).await.unwrap().done().unwrap().id
}

/// A demand for one bicycle from `requester`; its id.
async fn bike_demand(store: &dyn Store, requester: &str, text: &str) -> i64 {
    let demand = DemandInput { requester: requester.into(), text: text.into(), ..Default::default() };
    let d = store.create_demand(&demand.parse().unwrap(), &Classification::given("bicycles"), None).await;
    d.unwrap().done().unwrap().id
}

/// A proposal that is already due to expire.
async fn due_proposal(store: &dyn Store) -> i64 {
    let offer_id = bike_offer(store, "bob", 1).await;
    let demand_id = bike_demand(store, "amy", "想买自行车").await;
    let m = NewMatch { offer_id, units: 1, score: 0.5, features: Default::default(), ttl_ms: Some(1) };
    let p = store.propose_matches(demand_id, &[m], None).await.unwrap().done().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    p.matches[0].id
}

async fn paused_holder_is_fenced_off(db: &TestDb, lease: Arc<dyn Lease>) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let (a, b) = two_nodes(&store, &config(db), lease).await;
    let m = due_proposal(store.as_ref()).await;

    let every = Duration::from_millis(100); // a lease of 300 ms
    let a_turn = a.lead("expiry", every).await.expect("the first node takes the free lease");
    assert!(b.lead("expiry", every).await.is_none(), "held by the first node");
    // The first node stalls (a GC pause, SIGSTOP) past its lease: nothing of
    // it runs, its lease renewal included; it keeps only its fenced store...
    let a_store: Arc<dyn Store> = Arc::clone(&a_turn);
    drop(a_turn);
    let a_turn = a_store;
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

/// Scheduled batch allocation on two nodes: one node allocates per period
/// (a run per period in `job_runs`, each by the lease holder), the demands
/// get their units, and a holder that lost the lease has its proposals refused.
async fn scheduled_allocation_runs_on_the_holder_only(db: &TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let mut config = config(db);
    let every = Duration::from_millis(300);
    config.jobs.allocate_every = Some(every);
    config.jobs.index_interval = Duration::from_millis(50);
    let (a, b) = two_nodes(&store, &config, Arc::new(InProcessLease::default())).await;
    for n in 0..3 {
        bike_offer(store.as_ref(), &format!("shop{n}"), 2).await;
    }
    let mut demands = Vec::new();
    for n in 0..4 {
        demands.push(bike_demand(store.as_ref(), &format!("p{n}"), "想买山地自行车").await);
    }

    // Nothing is matched until a scheduled run does it.
    let _jobs = (a.start_jobs(), b.start_jobs());
    let mut matched = 0;
    for _ in 0..100 {
        matched = 0;
        for id in &demands {
            matched += store.get_demand(*id).await.unwrap().matched_units;
        }
        if matched == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(matched, 4, "every demand gets its unit from a scheduled run (6 units on offer)");
    tokio::time::sleep(every * 3).await;
    let runs = store.job_runs("allocate", 0, 1000).await.unwrap();
    assert!(runs.len() >= 2, "a run per period: {runs:?}");
    assert!(runs.windows(2).all(|w| w[0].period < w[1].period), "one run per period: {runs:?}");
    let holders: std::collections::HashSet<_> = runs.iter().map(|r| (r.token, r.node.clone())).collect();
    let tokens: std::collections::HashSet<_> = runs.iter().map(|r| r.token).collect();
    assert_eq!(holders.len(), tokens.len(), "a token belongs to one node: {runs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_allocation_runs_once_per_period_on_the_lease_holder() {
    for db in databases().await {
        scheduled_allocation_runs_on_the_holder_only(&db).await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_holders_allocation_is_refused() {
    let db = TestDb::sqlite().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let (a, b) = two_nodes(&store, &config(&db), Arc::new(InProcessLease::default())).await;
    bike_offer(store.as_ref(), "bob", 1).await;
    let d = bike_demand(store.as_ref(), "amy", "想买山地自行车").await;

    let every = Duration::from_millis(100);
    // Paused past its lease (no renewal runs), holding its fenced store.
    let a_turn: Arc<dyn Store> =
        Arc::clone(&a.lead("allocate", every).await.expect("the first node takes the free lease"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _b_turn = b.lead("allocate", every).await.expect("the second node takes the expired lease");
    let late = a.allocate_through(a_turn.as_ref(), wantloop_match::Mode::Optimal, false).await;
    assert!(
        matches!(late, Err(wantloop_engine::EngineError::Store(StoreError::Fenced { .. }))),
        "a late holder's proposals must be refused, got {late:?}"
    );
    assert_eq!(store.get_demand(d).await.unwrap().matched_units, 0, "nothing was proposed");
    db.cleanup().await;
}
