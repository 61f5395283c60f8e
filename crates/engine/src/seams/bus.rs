//! Publish/subscribe by subject. Delivery to a subscriber is best effort and
//! in order per subject; consumers treat a message as a hint to re-read the
//! store (the system of record), so a lost message costs latency, not data.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::SeamError;

#[async_trait]
pub trait Bus: Send + Sync {
    async fn publish(&self, subject: &str, payload: Vec<u8>) -> Result<(), SeamError>;
    /// Messages published on `subject` from when this returns. A subject
    /// ending in `.>` takes every subject under it where the bus supports
    /// wildcards (`durable` ones do).
    async fn subscribe(&self, subject: &str) -> Result<Box<dyn Subscription>, SeamError>;
    /// Whether messages reach other processes and `publish_durable` stores
    /// them (the outbox relay runs only on such a bus).
    fn durable(&self) -> bool {
        false
    }
    /// Publishes `(subject, id, payload)` messages in order and returns once
    /// the bus has stored every one; a message whose id the bus saw lately is
    /// stored once (a relay that repeats itself after a failover). Plain
    /// `publish` where nothing is stored.
    async fn publish_durable(&self, messages: &[(String, String, Vec<u8>)]) -> Result<(), SeamError> {
        for (subject, _, payload) in messages {
            self.publish(subject, payload.clone()).await?;
        }
        Ok(())
    }
}

#[async_trait]
pub trait Subscription: Send {
    /// The next message; `None` once the bus is gone.
    async fn next(&mut self) -> Option<Vec<u8>>;
}

/// Tokio broadcast channels, one per subject, in this process.
#[derive(Default)]
pub struct InProcessBus {
    subjects: Mutex<HashMap<String, broadcast::Sender<Vec<u8>>>>,
}

/// Messages a slow subscriber may fall behind by before it skips ahead.
const BACKLOG: usize = 1024;

impl InProcessBus {
    fn sender(&self, subject: &str) -> broadcast::Sender<Vec<u8>> {
        let mut subjects = self.subjects.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        subjects.entry(subject.to_string()).or_insert_with(|| broadcast::channel(BACKLOG).0).clone()
    }
}

#[async_trait]
impl Bus for InProcessBus {
    async fn publish(&self, subject: &str, payload: Vec<u8>) -> Result<(), SeamError> {
        // No subscriber is not an error: nobody needed the hint.
        let _ = self.sender(subject).send(payload);
        Ok(())
    }

    async fn subscribe(&self, subject: &str) -> Result<Box<dyn Subscription>, SeamError> {
        Ok(Box::new(BroadcastSubscription(self.sender(subject).subscribe())))
    }
}

struct BroadcastSubscription(broadcast::Receiver<Vec<u8>>);

#[async_trait]
impl Subscription for BroadcastSubscription {
    async fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            match self.0.recv().await {
                Ok(m) => return Some(m),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::debug!(skipped = n, "bus subscriber fell behind");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// A subscription to `subject`, or `None` (logged) when the bus refuses it:
/// the caller then polls on its own timer only, as it would without a bus.
pub(crate) async fn subscribe_or_poll(bus: &dyn Bus, subject: &str) -> Option<Box<dyn Subscription>> {
    match bus.subscribe(subject).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(subject, error = %e, "cannot subscribe; polling only");
            None
        }
    }
}

/// The next message of `s`; never, without a subscription (so a `select!`
/// branch on it stays idle).
pub(crate) async fn next_or_never(s: &mut Option<Box<dyn Subscription>>) -> Option<Vec<u8>> {
    match s {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}
