//! The seams that switch the embedded profile for the scale-out one: a shared
//! [`Cache`], an event [`Bus`], a [`Lease`] (the distributed lock) and a
//! [`WorkQueue`]. Each is
//! a trait so that the engine never names an implementation: the in-process
//! ones live here, the Redis and NATS ones in `wantloop-cluster`, and
//! `conformance` (feature `testing`) is the one suite per seam that every
//! implementation must pass.

mod bus;
mod cache;
#[cfg(feature = "testing")]
pub mod conformance;
mod lease;
mod queue;

pub use bus::{Bus, InProcessBus, Subscription};
pub(crate) use bus::{next_or_never, subscribe_or_poll};
pub use cache::{Cache, CacheStats, InProcessCache};
pub use lease::{InProcessLease, Lease, LeaseGrant};
pub use queue::{Delivery, InProcessQueue, WorkQueue};

#[derive(Debug, thiserror::Error)]
pub enum SeamError {
    #[error("{seam} unavailable: {reason}")]
    Unavailable { seam: &'static str, reason: String },
}

/// The seams an engine runs with.
#[derive(Clone)]
pub struct Seams {
    pub cache: std::sync::Arc<dyn Cache>,
    pub bus: std::sync::Arc<dyn Bus>,
    pub lease: std::sync::Arc<dyn Lease>,
    pub queue: std::sync::Arc<dyn WorkQueue>,
}

impl Seams {
    /// Everything in this process: the embedded profile.
    pub fn in_process() -> Self {
        Self {
            cache: std::sync::Arc::new(InProcessCache::new(64 * 1024 * 1024)),
            bus: std::sync::Arc::new(InProcessBus::default()),
            lease: std::sync::Arc::new(InProcessLease::default()),
            queue: std::sync::Arc::new(InProcessQueue::default()),
        }
    }
}
