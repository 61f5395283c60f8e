//! The services tests run against: the Redis named by
//! `WANTLOOP_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) and the NATS
//! server named by `WANTLOOP_TEST_NATS_URL` (default `nats://127.0.0.1:4222`).
//! When one does not answer, a test prints a notice and skips, unless
//! `WANTLOOP_REQUIRE_REDIS` / `WANTLOOP_REQUIRE_NATS` is set (as `.ci/run`
//! does), which makes it fail.

use crate::{RedisConn, connect_nats, connect_redis};

fn skip_or_fail(service: &str, require_var: &str, error: &dyn std::fmt::Display) {
    if std::env::var_os(require_var).is_some_and(|v| !v.is_empty()) {
        panic!("{service} is required ({require_var} is set): {error}");
    }
    eprintln!("notice: no {service} ({error}); skipping");
}

/// The test Redis's URL and a connection to it, if it answers.
pub async fn redis() -> Option<(String, RedisConn)> {
    let url = std::env::var("WANTLOOP_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    match connect_redis(&url).await {
        Ok(conn) => Some((url, conn)),
        Err(e) => {
            skip_or_fail("Redis", "WANTLOOP_REQUIRE_REDIS", &e);
            None
        }
    }
}

/// The test NATS server's URL and a client of it, if it answers.
pub async fn nats() -> Option<(String, async_nats::Client)> {
    let url = std::env::var("WANTLOOP_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    match connect_nats(&url).await {
        Ok(client) => Some((url, client)),
        Err(e) => {
            skip_or_fail("NATS", "WANTLOOP_REQUIRE_NATS", &e);
            None
        }
    }
}

/// A key or subject prefix of its own for one test run (`sep` ends it).
pub fn unique_prefix(sep: char) -> String {
    format!("wantloop-test{sep}{:016x}{sep}", rand::random::<u64>())
}
