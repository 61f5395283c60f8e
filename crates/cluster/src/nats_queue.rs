//! [`WorkQueue`] on a JetStream work-queue stream: each kind is the subject
//! `work.<kind>` under the prefix, read by one durable pull consumer per kind
//! that every node shares, so an item goes to one node at a time. An item
//! not acknowledged within the acknowledgement wait (its node died or
//! stalled) is delivered again, to any node; `retry` hands it back at once.
//! The stream deletes an item once it is acknowledged.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer, stream};
use async_trait::async_trait;
use futures_util::StreamExt;
use wantloop_engine::seams::{Delivery, SeamError, WorkQueue};

use crate::ClusterError;

/// Deliveries of one item before JetStream gives up on it (its job is then
/// answered by the abandoned-job sweep).
const MAX_DELIVER: i64 = 20;

pub struct NatsQueue {
    jetstream: jetstream::Context,
    prefix: String,
    base: String,
    ack_wait: Duration,
    /// Each kind's consumer, looked up once (two API round trips) and kept.
    consumers: tokio::sync::Mutex<HashMap<String, consumer::PullConsumer>>,
}

fn failed(what: &str, e: impl std::fmt::Display) -> ClusterError {
    ClusterError::Nats { url: what.to_string(), reason: e.to_string() }
}

fn unavailable(e: impl std::fmt::Display) -> SeamError {
    SeamError::Unavailable { seam: "queue", reason: e.to_string() }
}

impl NatsQueue {
    /// Queues under `prefix` (say `wantloop.`), its stream created (or its
    /// settings updated) on the server; an item unacknowledged for
    /// `ack_wait` is delivered again.
    pub async fn new(
        client: async_nats::Client,
        prefix: impl Into<String>,
        ack_wait: Duration,
    ) -> Result<Self, ClusterError> {
        let prefix = prefix.into();
        let base = crate::nats_bus::stream_base(&prefix);
        let jetstream = jetstream::new(client);
        let name = format!("{base}_WORK");
        let config = stream::Config {
            name,
            subjects: vec![format!("{prefix}work.>")],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            ..Default::default()
        };
        crate::nats_bus::ensure_stream(&jetstream, &config).await?;
        Ok(Self { jetstream, prefix, base, ack_wait, consumers: Default::default() })
    }

    fn stream_name(&self) -> String {
        format!("{}_WORK", self.base)
    }

    /// Deletes the queue's stream (tests that made one of their own).
    pub async fn delete_stream(&self) -> Result<(), ClusterError> {
        let name = self.stream_name();
        self.jetstream.delete_stream(&name).await.map(|_| ()).map_err(|e| failed(&name, e))
    }

    async fn consumer(&self, kind: &str) -> Result<consumer::PullConsumer, SeamError> {
        let mut consumers = self.consumers.lock().await;
        if let Some(c) = consumers.get(kind) {
            return Ok(c.clone());
        }
        let c = self.create_consumer(kind).await?;
        consumers.insert(kind.to_string(), c.clone());
        Ok(c)
    }

    async fn create_consumer(&self, kind: &str) -> Result<consumer::PullConsumer, SeamError> {
        let stream = self.jetstream.get_stream(self.stream_name()).await.map_err(unavailable)?;
        let durable = format!("{}_{}", self.base, kind.to_ascii_uppercase());
        let config = consumer::pull::Config {
            durable_name: Some(durable.clone()),
            filter_subject: format!("{}work.{kind}", self.prefix),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: self.ack_wait,
            max_deliver: MAX_DELIVER,
            ..Default::default()
        };
        stream.get_or_create_consumer(&durable, config).await.map_err(unavailable)
    }
}

#[async_trait]
impl WorkQueue for NatsQueue {
    async fn push(&self, kind: &str, item: Vec<u8>) -> Result<(), SeamError> {
        let ack =
            self.jetstream.publish(format!("{}work.{kind}", self.prefix), item.into()).await.map_err(unavailable)?;
        ack.await.map_err(unavailable)?;
        Ok(())
    }

    async fn pull(&self, kind: &str, wait: Duration) -> Result<Option<Box<dyn Delivery>>, SeamError> {
        let consumer = self.consumer(kind).await?;
        // The server ends a pull after `expires`; it wants at least a second.
        let expires = wait.max(Duration::from_secs(1));
        let mut batch = match consumer.batch().max_messages(1).expires(expires).messages().await {
            Ok(batch) => batch,
            Err(e) => {
                // The consumer may be gone (its stream was recreated): look it up again next time.
                self.consumers.lock().await.remove(kind);
                return Err(unavailable(e));
            }
        };
        match tokio::time::timeout(expires + Duration::from_secs(1), batch.next()).await {
            Ok(Some(Ok(message))) => Ok(Some(Box::new(NatsDelivery(message)))),
            Ok(Some(Err(e))) => Err(unavailable(e)),
            Ok(None) | Err(_) => Ok(None),
        }
    }
}

struct NatsDelivery(jetstream::Message);

#[async_trait]
impl Delivery for NatsDelivery {
    fn item(&self) -> &[u8] {
        &self.0.payload
    }

    async fn ack(self: Box<Self>) -> Result<(), SeamError> {
        // Waits for the server to confirm, so an acknowledged item is gone.
        self.0.double_ack().await.map_err(unavailable)
    }

    async fn retry(self: Box<Self>) -> Result<(), SeamError> {
        // Confirmed, so the item is back in the queue when this returns.
        self.0.double_ack_with(AckKind::Nak(None)).await.map_err(unavailable)
    }
}
