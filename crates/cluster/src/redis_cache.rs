//! [`Cache`] in Redis, shared by every node: `SET key value PX ttl` and `GET`.
//! Keys carry the version of what a value was derived from (the engine puts
//! the index cursor in a search key), so a node reads only values computed
//! from the same data it has; nothing is deleted on writes. A failing Redis
//! is a miss, never an error: it costs recomputation, not availability.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use wantloop_engine::seams::{Cache, CacheStats};

use crate::RedisConn;

/// Largest value stored: a bigger one is recomputed rather than shipped.
const MAX_VALUE_BYTES: usize = 1 << 20;

pub struct RedisCache {
    conn: RedisConn,
    prefix: String,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl RedisCache {
    /// A cache whose keys all start with `prefix` (say `wantloop:cache:`), so
    /// that several deployments or test runs can share one Redis.
    pub fn new(conn: RedisConn, prefix: impl Into<String>) -> Self {
        Self { conn, prefix: prefix.into(), hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let mut conn = self.conn.clone();
        let found = match redis::cmd("GET").arg(self.key(key)).query_async::<Option<Vec<u8>>>(&mut conn).await {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!(error = %e, "redis cache read failed; a miss");
                None
            }
        };
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) {
        if value.len() > MAX_VALUE_BYTES {
            return;
        }
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut conn = self.conn.clone();
        let set = redis::cmd("SET").arg(self.key(key)).arg(value).arg("PX").arg(ms).query_async::<()>(&mut conn).await;
        if let Err(e) = set {
            tracing::debug!(error = %e, "redis cache write failed; not cached");
        }
    }

    fn stats(&self) -> CacheStats {
        CacheStats { hits: self.hits.load(Ordering::Relaxed), misses: self.misses.load(Ordering::Relaxed) }
    }
}
