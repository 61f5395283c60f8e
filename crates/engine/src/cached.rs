//! Candidate and recommendation lists through the cache seam. A list's key
//! carries the store's last event id when it was computed: every acknowledged
//! write, on any node, adds an event in its own transaction, so a list cached
//! before the write is never served after it — by any node, from the
//! in-process cache or a shared Redis one. The price is one indexed read of
//! the event position per request, and a busy market, whose every write
//! moves the position, hits the cache only between writes; searches are
//! keyed by the node's own index cursor instead (see `search.rs`).

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use wantloop_store::StoreError;

use crate::Engine;

/// The longest a list is served unchanged: its freshness scores decay with
/// time even while nothing is written.
const LIST_TTL: Duration = Duration::from_secs(30);

impl Engine {
    /// `compute`'s value for `what` (a key naming the list and its inputs),
    /// from the cache while no write happened since it was computed.
    /// `compute` also says whether its value may be cached: not when the
    /// index it read could not be brought up to date.
    pub(crate) async fn cached_list<T, F, Fut>(&self, what: String, compute: F) -> Result<T, StoreError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(T, bool), StoreError>>,
    {
        // Read before computing: the value then reflects at least every
        // write up to this position.
        let Ok(position) = self.store.last_event_id().await else { return Ok(compute().await?.0) };
        let key = format!("{what}@{position}");
        if let Some(bytes) = self.seams.cache.get(&key).await
            && let Ok(hit) = serde_json::from_slice::<T>(&bytes)
        {
            return Ok(hit);
        }
        let (value, cacheable) = compute().await?;
        if cacheable && let Ok(bytes) = serde_json::to_vec(&value) {
            self.seams.cache.put(&key, bytes, LIST_TTL).await;
        }
        Ok(value)
    }
}
