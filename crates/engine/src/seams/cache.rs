//! A cache of derived results (search results today). Values are bytes so
//! that a network cache can hold them; keys carry the version of what they
//! were derived from (e.g. the index cursor), so a write invalidates by making
//! old keys unreachable rather than by deleting them on every node.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
}

#[async_trait]
pub trait Cache: Send + Sync {
    /// The value under `key`, if present and not expired. A failing cache is a
    /// miss, never an error: it only costs recomputation.
    async fn get(&self, key: &str) -> Option<Vec<u8>>;
    /// Stores `value` under `key` for at most `ttl`.
    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration);
    /// Hits and misses of `get` since this process started.
    fn stats(&self) -> CacheStats;
}

/// moka, bounded by the bytes it holds; every entry lives at most the
/// shortest TTL it was put with on this node (moka's per-entry expiry).
pub struct InProcessCache {
    inner: moka::sync::Cache<String, (std::sync::Arc<[u8]>, Duration)>,
    hits: AtomicU64,
    misses: AtomicU64,
}

struct PerEntryTtl;

impl moka::Expiry<String, (std::sync::Arc<[u8]>, Duration)> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &(std::sync::Arc<[u8]>, Duration),
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.1)
    }
}

impl InProcessCache {
    pub fn new(max_bytes: u64) -> Self {
        let inner = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|k: &String, v: &(std::sync::Arc<[u8]>, Duration)| {
                u32::try_from(k.len() + v.0.len()).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl)
            .build();
        Self { inner, hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }
}

#[async_trait]
impl Cache for InProcessCache {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let found = self.inner.get(key).map(|(v, _)| v.to_vec());
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) {
        self.inner.insert(key.to_string(), (value.into(), ttl));
    }

    fn stats(&self) -> CacheStats {
        CacheStats { hits: self.hits.load(Ordering::Relaxed), misses: self.misses.load(Ordering::Relaxed) }
    }
}
