//! A work queue: items of a kind, each taken by one consumer at a time and
//! delivered again unless acknowledged (at least once; consumers make their
//! effect idempotent). In process, an item whose delivery is dropped without
//! an acknowledgement goes back to the front at once; a durable queue
//! (JetStream) delivers it again after its acknowledgement wait, to any node.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::SeamError;

#[async_trait]
pub trait WorkQueue: Send + Sync {
    /// Appends `item` to the queue of `kind`; returns once it is queued
    /// (stored, for a durable queue).
    async fn push(&self, kind: &str, item: Vec<u8>) -> Result<(), SeamError>;
    /// The next item of `kind`, waiting at most `wait` for one.
    async fn pull(&self, kind: &str, wait: Duration) -> Result<Option<Box<dyn Delivery>>, SeamError>;
}

/// One delivered item. Acknowledge it once its effect is stored; `retry`
/// (or dropping it) hands it back for another delivery.
#[async_trait]
pub trait Delivery: Send {
    fn item(&self) -> &[u8];
    async fn ack(self: Box<Self>) -> Result<(), SeamError>;
    async fn retry(self: Box<Self>) -> Result<(), SeamError>;
}

type Queues = Arc<Mutex<HashMap<String, VecDeque<Vec<u8>>>>>;

/// Queues in this process (lost with it: the store's abandoned-job sweep
/// answers for a job whose node stopped).
#[derive(Default)]
pub struct InProcessQueue {
    queues: Queues,
    added: Arc<Notify>,
}

impl InProcessQueue {
    fn take(&self, kind: &str) -> Option<Vec<u8>> {
        let mut queues = self.queues.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        queues.get_mut(kind).and_then(VecDeque::pop_front)
    }
}

#[async_trait]
impl WorkQueue for InProcessQueue {
    async fn push(&self, kind: &str, item: Vec<u8>) -> Result<(), SeamError> {
        let mut queues = self.queues.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        queues.entry(kind.to_string()).or_default().push_back(item);
        drop(queues);
        self.added.notify_waiters();
        Ok(())
    }

    async fn pull(&self, kind: &str, wait: Duration) -> Result<Option<Box<dyn Delivery>>, SeamError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so a push in between is not missed.
            let added = self.added.notified();
            if let Some(item) = self.take(kind) {
                let delivery = InProcessDelivery {
                    item: Some(item),
                    kind: kind.to_string(),
                    queues: self.queues.clone(),
                    added: self.added.clone(),
                };
                return Ok(Some(Box::new(delivery)));
            }
            if tokio::time::timeout_at(deadline, added).await.is_err() {
                return Ok(None);
            }
        }
    }
}

struct InProcessDelivery {
    /// `None` once acknowledged or handed back.
    item: Option<Vec<u8>>,
    kind: String,
    queues: Queues,
    added: Arc<Notify>,
}

impl InProcessDelivery {
    fn hand_back(&mut self) {
        if let Some(item) = self.item.take() {
            let mut queues = self.queues.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            queues.entry(self.kind.clone()).or_default().push_front(item);
            drop(queues);
            self.added.notify_waiters();
        }
    }
}

impl Drop for InProcessDelivery {
    fn drop(&mut self) {
        self.hand_back();
    }
}

#[async_trait]
impl Delivery for InProcessDelivery {
    fn item(&self) -> &[u8] {
        self.item.as_deref().unwrap_or_default()
    }

    async fn ack(mut self: Box<Self>) -> Result<(), SeamError> {
        self.item = None;
        Ok(())
    }

    async fn retry(mut self: Box<Self>) -> Result<(), SeamError> {
        self.hand_back();
        Ok(())
    }
}
