//! The outbox relay: on a durable bus (NATS JetStream), the lease holder
//! publishes every outbox event, in id order, on `events.<entity>` with the
//! event id as the message id, and records how far it got in the store (as
//! an outbox consumer, so retention keeps what it has not relayed, and
//! through a store fenced by its lease token, so a former holder cannot move
//! the position). A new holder starts from the recorded position: events
//! published but not yet recorded are published again, and the bus stores
//! them once (JetStream de-duplicates by message id within its window).

use std::time::Duration;

use wantloop_store::Store;

use crate::seams::Bus;
use crate::{Engine, EngineError};

/// The relay's name as an outbox consumer and as a job.
pub const RELAY: &str = "outbox-relay";
/// Events read and published per round trip.
const PAGE: u32 = 1_000;
/// The relay's job name (its lease is `wantloop.job.relay`).
pub const JOB: &str = "relay";
/// How often the holder looks for new events.
pub const EVERY: Duration = Duration::from_millis(200);
/// How long the relay's lease lasts without renewal.
const LEASE: Duration = Duration::from_secs(3);

/// Publishes the events after the relay's position, a page at a time,
/// recording the position once the bus has stored each page; returns how
/// many it published.
pub async fn relay_pending(bus: &dyn Bus, store: &dyn Store) -> Result<u64, EngineError> {
    let mut position = store.consumer_position(RELAY).await?.unwrap_or(0);
    let mut total = 0;
    loop {
        let events = store.events_after(position, PAGE).await?;
        let Some(last) = events.last().map(|e| e.id) else { return Ok(total) };
        let messages = events
            .iter()
            .map(|e| Ok((format!("events.{}", e.entity), e.id.to_string(), serde_json::to_vec(e)?)))
            .collect::<Result<Vec<_>, serde_json::Error>>()
            .map_err(|e| EngineError::Seam(format!("cannot encode an event: {e}")))?;
        bus.publish_durable(&messages).await.map_err(|e| EngineError::Seam(e.to_string()))?;
        store.record_consumer(RELAY, last).await?;
        position = last;
        total += events.len() as u64;
        if events.len() < PAGE as usize {
            return Ok(total);
        }
    }
}

/// Relays while this node holds the relay's lease.
pub(crate) async fn run(engine: Engine) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(store) = engine.take_lease(JOB, LEASE).await else { continue };
        if let Err(e) = relay_pending(engine.seams.bus.as_ref(), store.as_ref()).await {
            tracing::warn!(error = %e, "outbox relay failed; retrying");
        }
    }
}
