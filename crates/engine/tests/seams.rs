//! The seams' conformance suites (`wantloop_engine::seams::conformance`) run
//! against the in-process implementations; `wantloop-cluster` runs the same
//! suites against Redis and NATS.

use std::time::Duration;

use wantloop_engine::seams::{InProcessBus, InProcessCache, InProcessLease, InProcessQueue, conformance};

#[tokio::test]
async fn in_process_cache() {
    conformance::cache(&InProcessCache::new(1 << 20)).await;
}

#[tokio::test]
async fn in_process_lease() {
    conformance::lease(&InProcessLease::default()).await;
}

#[tokio::test]
async fn in_process_bus() {
    conformance::bus(&InProcessBus::default()).await;
}

#[tokio::test]
async fn in_process_queue() {
    conformance::queue(&InProcessQueue::default(), Duration::ZERO).await;
}
