//! The seams' conformance suites against a real Redis: the one named by
//! `WANTLOOP_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). Without one
//! the tests print a notice and pass, unless `WANTLOOP_REQUIRE_REDIS` is set
//! (as `.ci/run` does). Each run uses keys of its own.

use std::time::{Duration, Instant};

use wantloop_cluster::{RedisCache, RedisConn, RedisLease, connect_redis, testing};
use wantloop_engine::seams::{Cache, Lease, conformance};

async fn redis() -> Option<RedisConn> {
    testing::redis().await.map(|(_, conn)| conn)
}

fn prefix() -> String {
    testing::unique_prefix(':')
}

#[tokio::test]
async fn redis_cache_conforms() {
    let Some(conn) = redis().await else { return };
    conformance::cache(&RedisCache::new(conn, prefix())).await;
}

#[tokio::test]
async fn redis_lease_conforms() {
    let Some(conn) = redis().await else { return };
    conformance::lease(&RedisLease::new(conn, prefix())).await;
}

/// Two nodes' caches on one Redis share entries: what one computed the other reads.
#[tokio::test]
async fn nodes_share_one_redis_cache() {
    let Some(conn) = redis().await else { return };
    let p = prefix();
    let (a, b) = (RedisCache::new(conn.clone(), p.clone()), RedisCache::new(conn, p));
    a.put("search:42:bike", b"results".to_vec(), Duration::from_secs(60)).await;
    assert_eq!(b.get("search:42:bike").await.as_deref(), Some(&b"results"[..]));
}

/// Two nodes' leases on one Redis: one holder at a time, and a new holder
/// after expiry gets a larger token than the one it replaces.
#[tokio::test]
async fn nodes_share_one_redis_lease() {
    let Some(conn) = redis().await else { return };
    let p = prefix();
    let (a, b) = (RedisLease::new(conn.clone(), p.clone()), RedisLease::new(conn, p));
    let ttl = Duration::from_millis(200);
    let first = a.acquire("expiry", "node-a", ttl, 0).await.unwrap().unwrap();
    assert_eq!(b.acquire("expiry", "node-b", ttl, 0).await.unwrap(), None);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = b.acquire("expiry", "node-b", ttl, 0).await.unwrap().expect("a's lease expired");
    assert!(second.token > first.token);
    assert_eq!(a.acquire("expiry", "node-a", ttl, 0).await.unwrap(), None, "a does not get it back");
}

/// A Redis that does not answer is a cache miss within the timeouts, not an
/// error and not a hang; the lease reports it unavailable.
#[tokio::test]
async fn an_unreachable_redis_fails_fast() {
    let started = Instant::now();
    // Port 1 on loopback refuses connections.
    assert!(connect_redis("redis://127.0.0.1:1").await.is_err());
    // A server that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    assert!(connect_redis(&format!("redis://{addr}")).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
}
