//! The scale-out implementations of the engine's seams (`wantloop_engine::seams`):
//! a Redis cache, a Redis lease with fencing tokens, a NATS bus and a
//! JetStream work queue. They live in their own
//! crate so that the embedded profile (one binary, no services) builds and
//! links none of the network clients' machinery into the engine, and so that
//! the engine never names an implementation. Each passes the seam's one
//! conformance suite (`wantloop_engine::seams::conformance`), as the
//! in-process implementations do.

mod nats_bus;
mod nats_queue;
mod redis_cache;
mod redis_conn;
mod redis_lease;
#[cfg(feature = "testing")]
pub mod testing;

pub use nats_bus::{NatsBus, connect_nats};
pub use nats_queue::NatsQueue;
pub use redis_cache::RedisCache;
pub use redis_conn::{RedisConn, connect_redis};
pub use redis_lease::RedisLease;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("redis at {url}: {source}")]
    Redis {
        url: String,
        #[source]
        source: redis::RedisError,
    },
    #[error("nats at {url}: {reason}")]
    Nats { url: String, reason: String },
}
