//! Keeps the search index in step with the store by consuming the outbox (no
//! dual writes that could drift): every event carries the entity after the
//! change, so applying events in order from the index's cursor reproduces the
//! store's state — also after a restart with a stale or empty index.

use std::sync::Arc;
use std::time::Duration;

use wantloop_core::{Demand, Event, Offer};
use wantloop_search::{SearchError, SearchIndex};
use wantloop_store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] SearchError),
}

fn apply(index: &SearchIndex, e: &Event) -> Result<(), SearchError> {
    let offer = |v: &serde_json::Value| serde_json::from_value::<Offer>(v.clone()).ok();
    let demand = |v: &serde_json::Value| serde_json::from_value::<Demand>(v.clone()).ok();
    match e.entity.as_str() {
        "offer" => {
            if let Some(o) = offer(&e.payload) {
                index.upsert_offer(&o)?;
            }
        }
        "demand" => {
            if let Some(d) = demand(&e.payload) {
                index.upsert_demand(&d)?;
            }
        }
        "match" => {
            if let Some(o) = offer(&e.payload["offer"]) {
                index.upsert_offer(&o)?;
            }
            if let Some(d) = demand(&e.payload["demand"]) {
                index.upsert_demand(&d)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Applies every event after the index's cursor and commits; returns how many.
pub async fn catch_up(store: &dyn Store, index: &SearchIndex) -> Result<usize, IndexerError> {
    let mut applied = 0;
    loop {
        let events = store.events_after(index.cursor(), 1_000).await?;
        let Some(last) = events.last().map(|e| e.id) else { break };
        for e in &events {
            apply(index, e)?;
        }
        index.commit(last)?;
        applied += events.len();
    }
    Ok(applied)
}

/// Rebuilds the index from the store's current rows.
pub async fn rebuild(store: &dyn Store, index: &SearchIndex, progress: &dyn Fn(u64)) -> Result<u64, IndexerError> {
    use wantloop_store::{DemandFilter, OfferFilter};
    // Take the cursor first: events after it are applied by the next catch-up.
    let cursor = store.last_event_id().await?;
    index.clear()?;
    let mut n = 0;
    for o in store.all_offers(&OfferFilter::default()).await? {
        index.upsert_offer(&o)?;
        n += 1;
        progress(n);
    }
    for d in store.all_demands(&DemandFilter::default()).await? {
        index.upsert_demand(&d)?;
        n += 1;
        progress(n);
    }
    index.commit(cursor)?;
    Ok(n)
}

/// The background task: catch up, then poll the outbox.
pub async fn run(store: Arc<dyn Store>, index: Arc<SearchIndex>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(e) = catch_up(store.as_ref(), &index).await {
            tracing::warn!(error = %e, "search indexing failed");
        }
    }
}
