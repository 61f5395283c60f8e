//! One conformance suite per seam, run against every implementation (the
//! in-process ones today; Redis and NATS implementations join the lists).

use std::time::Duration;

use wantloop_engine::seams::{Bus, Cache, InProcessBus, InProcessCache, InProcessLease, Lease};

async fn cache_conformance(cache: &dyn Cache) {
    let before = cache.stats();
    assert_eq!(cache.get("absent").await, None);
    cache.put("k", b"v1".to_vec(), Duration::from_secs(60)).await;
    assert_eq!(cache.get("k").await.as_deref(), Some(&b"v1"[..]));
    cache.put("k", b"v2".to_vec(), Duration::from_secs(60)).await;
    assert_eq!(cache.get("k").await.as_deref(), Some(&b"v2"[..]), "a put replaces");
    cache.put("short", b"x".to_vec(), Duration::from_millis(50)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cache.get("short").await, None, "an entry is gone after its TTL");
    let after = cache.stats();
    assert_eq!((after.hits - before.hits, after.misses - before.misses), (2, 2));
}

async fn lease_conformance(lease: &dyn Lease) {
    let ttl = Duration::from_secs(60);
    let a = lease.acquire("job", "a", ttl).await.unwrap().expect("a free lease is granted");
    assert_eq!(lease.acquire("job", "b", ttl).await.unwrap(), None, "held by a");
    assert_eq!(lease.acquire("job", "a", ttl).await.unwrap(), Some(a), "a renewal keeps the token");
    assert_eq!(lease.holder("job").await.unwrap(), Some(("a".to_string(), a)));
    lease.release("job", "b").await.unwrap();
    assert_eq!(lease.acquire("job", "b", ttl).await.unwrap(), None, "only the holder can release");
    lease.release("job", "a").await.unwrap();
    let b = lease.acquire("job", "b", ttl).await.unwrap().expect("released, so free");
    assert!(b.token > a.token, "a new holder gets a larger fencing token");
    // Expiry: a holder that stops renewing loses the lease to the next one.
    let c1 = lease.acquire("short", "c", Duration::from_millis(50)).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(lease.holder("short").await.unwrap(), None);
    let d = lease.acquire("short", "d", ttl).await.unwrap().expect("expired, so free");
    assert!(d.token > c1.token && d.token > b.token, "tokens only grow, across names too");
    assert_eq!(lease.acquire("short", "c", ttl).await.unwrap(), None, "the late holder does not get it back");
}

async fn bus_conformance(bus: &dyn Bus) {
    bus.publish("nobody.listens", b"x".to_vec()).await.unwrap();
    let mut sub = bus.subscribe("s");
    let mut other = bus.subscribe("t");
    for i in 0..10u8 {
        bus.publish("s", vec![i]).await.unwrap();
    }
    bus.publish("t", b"t".to_vec()).await.unwrap();
    for i in 0..10u8 {
        let m = tokio::time::timeout(Duration::from_secs(5), sub.next()).await.expect("delivered");
        assert_eq!(m, Some(vec![i]), "in order per subject");
    }
    let m = tokio::time::timeout(Duration::from_secs(5), other.next()).await.expect("delivered");
    assert_eq!(m, Some(b"t".to_vec()), "subjects are separate");
}

#[tokio::test]
async fn in_process_cache() {
    cache_conformance(&InProcessCache::new(1 << 20)).await;
}

#[tokio::test]
async fn in_process_lease() {
    lease_conformance(&InProcessLease::default()).await;
}

#[tokio::test]
async fn in_process_bus() {
    bus_conformance(&InProcessBus::default()).await;
}
