//! A named lease (the distributed lock) with a fencing token: at most one
//! holder at a time until the lease expires, and every grant to a new holder
//! carries a token larger than any before it, so the store can refuse a late
//! write from a holder that lost the lease without knowing it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::SeamError;

/// A lease held: its fencing token, kept across renewals by the same holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseGrant {
    pub token: u64,
}

#[async_trait]
pub trait Lease: Send + Sync {
    /// Takes `name` for `holder` for `ttl`, or renews it if `holder` has it.
    /// `None` while another holder's lease is live. A new grant's token is
    /// larger than `floor` and than every token granted before: the caller
    /// passes the highest token its store has seen, so a lease service that
    /// lost its counter (a Redis restart) never hands out a token the store
    /// would refuse.
    async fn acquire(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        floor: u64,
    ) -> Result<Option<LeaseGrant>, SeamError>;
    /// Gives `name` up if `holder` has it (compare-and-delete); otherwise nothing.
    async fn release(&self, name: &str, holder: &str) -> Result<(), SeamError>;
    /// The current holder and token of `name`, if its lease is live.
    async fn holder(&self, name: &str) -> Result<Option<(String, LeaseGrant)>, SeamError>;
}

struct Held {
    holder: String,
    token: u64,
    until: Instant,
}

/// Leases within this process; tokens come from one counter that only grows.
#[derive(Default)]
pub struct InProcessLease {
    state: Mutex<(u64, HashMap<String, Held>)>,
}

#[async_trait]
impl Lease for InProcessLease {
    async fn acquire(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        floor: u64,
    ) -> Result<Option<LeaseGrant>, SeamError> {
        let now = Instant::now();
        let mut guard = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (counter, leases) = &mut *guard;
        match leases.get_mut(name) {
            Some(h) if h.until > now && h.holder != holder => Ok(None),
            Some(h) if h.until > now => {
                h.until = now + ttl;
                Ok(Some(LeaseGrant { token: h.token }))
            }
            _ => {
                *counter = (*counter).max(floor) + 1;
                leases.insert(name.to_string(), Held { holder: holder.to_string(), token: *counter, until: now + ttl });
                Ok(Some(LeaseGrant { token: *counter }))
            }
        }
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), SeamError> {
        let mut guard = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.1.get(name).is_some_and(|h| h.holder == holder) {
            guard.1.remove(name);
        }
        Ok(())
    }

    async fn holder(&self, name: &str) -> Result<Option<(String, LeaseGrant)>, SeamError> {
        let guard = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(guard
            .1
            .get(name)
            .filter(|h| h.until > Instant::now())
            .map(|h| (h.holder.clone(), LeaseGrant { token: h.token })))
    }
}
