//! [`Bus`] on NATS. Announcements (`publish` / `subscribe`) are NATS core
//! publish/subscribe: in order per publisher and subject, best effort (a node
//! that is not subscribed misses one; consumers treat a message as a hint to
//! re-read the store). The outbox relay's events (`publish_durable`) go to a
//! JetStream stream over the `events.>` subjects, stored on disk, each message
//! id stored once within the de-duplication window; JetStream delivers them to
//! core subscribers too, which is how each node's indexer is woken.

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage, stream};
use async_trait::async_trait;
use futures_util::StreamExt;
use wantloop_engine::seams::{Bus, SeamError, Subscription};

use crate::ClusterError;

/// How long JetStream remembers a message id: longer than any relay failover.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);
/// How long the stream keeps events (the store keeps them too; a node that
/// is further behind catches up from the store).
const MAX_AGE: Duration = Duration::from_secs(7 * 86_400);
/// Messages whose acknowledgement is awaited together.
const IN_FLIGHT: usize = 256;

pub struct NatsBus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    prefix: String,
    stream: String,
}

/// Creates the stream `config` names, or updates its settings if it is
/// there. Nodes that start together race between the lookup and the
/// creation (the loser's creation fails, "subjects overlap"): a failed
/// creation is followed by one more lookup, and an update if the stream is
/// there now.
pub(crate) async fn ensure_stream(jetstream: &jetstream::Context, config: &stream::Config) -> Result<(), ClusterError> {
    let failed = |e: &dyn std::fmt::Display| ClusterError::Nats { url: config.name.clone(), reason: e.to_string() };
    if jetstream.get_stream(&config.name).await.is_ok() {
        return jetstream.update_stream(config).await.map(|_| ()).map_err(|e| failed(&e));
    }
    match jetstream.create_stream(config.clone()).await {
        Ok(_) => Ok(()),
        Err(e) if jetstream.get_stream(&config.name).await.is_ok() => {
            tracing::debug!(stream = %config.name, error = %e, "another node created the stream first");
            jetstream.update_stream(config).await.map(|_| ()).map_err(|e| failed(&e))
        }
        Err(e) => Err(failed(&e)),
    }
}

/// Connects to `url` (`nats://host:port`), failing fast when nobody answers.
pub async fn connect_nats(url: &str) -> Result<async_nats::Client, ClusterError> {
    async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .request_timeout(Some(Duration::from_secs(5)))
        .connect(url)
        .await
        .map_err(|e| ClusterError::Nats { url: url.to_string(), reason: e.to_string() })
}

impl NatsBus {
    /// A bus whose subjects all start with `prefix` (say `wantloop.`), with
    /// its event stream created (or its settings updated) on the server.
    pub async fn new(client: async_nats::Client, prefix: impl Into<String>) -> Result<Self, ClusterError> {
        let prefix = prefix.into();
        let stream = stream_name(&prefix);
        let jetstream = jetstream::new(client.clone());
        let config = stream::Config {
            name: stream.clone(),
            subjects: vec![format!("{prefix}events.>")],
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            max_age: MAX_AGE,
            ..Default::default()
        };
        ensure_stream(&jetstream, &config).await?;
        Ok(Self { client, jetstream, prefix, stream })
    }

    /// The JetStream stream holding the relayed events.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// Deletes the event stream (tests that made one of their own).
    pub async fn delete_stream(&self) -> Result<(), ClusterError> {
        self.jetstream
            .delete_stream(&self.stream)
            .await
            .map(|_| ())
            .map_err(|e| ClusterError::Nats { url: self.stream.clone(), reason: e.to_string() })
    }
}

impl NatsBus {
    /// Returns once the server has handled everything this client sent
    /// before: it echoes a message to a fresh inbox of this connection, and
    /// a server handles a connection's commands in order. (`flush` only
    /// empties the client's buffer, so a subscription could miss messages
    /// another connection published right after it.)
    async fn round_trip(&self) -> Result<(), SeamError> {
        let inbox = self.client.new_inbox();
        let mut echo = self.client.subscribe(inbox.clone()).await.map_err(unavailable)?;
        self.client.publish(inbox, Vec::new().into()).await.map_err(unavailable)?;
        match tokio::time::timeout(Duration::from_secs(5), echo.next()).await {
            Ok(Some(_)) => Ok(()),
            _ => Err(unavailable("no echo from the server within 5 s")),
        }
    }
}

/// The base of stream and consumer names for a subject prefix: JetStream
/// names allow no dots.
pub(crate) fn stream_base(prefix: &str) -> String {
    let base: String =
        prefix.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    base.trim_matches('_').to_string()
}

fn stream_name(prefix: &str) -> String {
    format!("{}_EVENTS", stream_base(prefix))
}

fn unavailable(e: impl std::fmt::Display) -> SeamError {
    SeamError::Unavailable { seam: "bus", reason: e.to_string() }
}

#[async_trait]
impl Bus for NatsBus {
    async fn publish(&self, subject: &str, payload: Vec<u8>) -> Result<(), SeamError> {
        self.client.publish(format!("{}{subject}", self.prefix), payload.into()).await.map_err(unavailable)?;
        // Out of the client's buffer now, so a crash right after loses nothing sent.
        self.client.flush().await.map_err(unavailable)
    }

    async fn subscribe(&self, subject: &str) -> Result<Box<dyn Subscription>, SeamError> {
        let sub = self.client.subscribe(format!("{}{subject}", self.prefix)).await.map_err(unavailable)?;
        self.round_trip().await?;
        Ok(Box::new(NatsSubscription(sub)))
    }

    fn durable(&self) -> bool {
        true
    }

    async fn publish_durable(&self, messages: &[(String, String, Vec<u8>)]) -> Result<(), SeamError> {
        // Sent in order, acknowledged in windows: the stream stores them in
        // the order sent, and one round trip serves a window.
        for window in messages.chunks(IN_FLIGHT) {
            let mut acks = Vec::with_capacity(window.len());
            for (subject, id, payload) in window {
                let message = PublishMessage::build().payload(payload.clone().into()).message_id(id);
                let ack = self
                    .jetstream
                    .send_publish(format!("{}{subject}", self.prefix), message)
                    .await
                    .map_err(unavailable)?;
                acks.push(ack);
            }
            for ack in acks {
                ack.await.map_err(unavailable)?;
            }
        }
        Ok(())
    }
}

struct NatsSubscription(async_nats::Subscriber);

#[async_trait]
impl Subscription for NatsSubscription {
    async fn next(&mut self) -> Option<Vec<u8>> {
        self.0.next().await.map(|m| m.payload.to_vec())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn stream_names_have_no_dots() {
        assert_eq!(super::stream_name("wantloop."), "WANTLOOP_EVENTS");
        assert_eq!(super::stream_name("wantloop-test.00ab."), "WANTLOOP_TEST_00AB_EVENTS");
    }
}
