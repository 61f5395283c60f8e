//! One conformance suite per seam, public (feature `testing`) so that every
//! implementation, in this crate or in `wantloop-cluster`, runs the same
//! checks. Names and keys are fixed: give each run an implementation with a
//! namespace of its own when the backing service is shared.

use std::time::Duration;

use super::{Bus, Cache, Lease, WorkQueue};

pub async fn cache(cache: &dyn Cache) {
    let before = cache.stats();
    assert_eq!(cache.get("absent").await, None);
    cache.put("k", b"v1".to_vec(), Duration::from_secs(60)).await;
    assert_eq!(cache.get("k").await.as_deref(), Some(&b"v1"[..]));
    cache.put("k", b"v2".to_vec(), Duration::from_secs(60)).await;
    assert_eq!(cache.get("k").await.as_deref(), Some(&b"v2"[..]), "a put replaces");
    cache.put("short", b"x".to_vec(), Duration::from_millis(50)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cache.get("short").await, None, "an entry is gone after its TTL");
    let binary: Vec<u8> = (0..=255).collect();
    cache.put("binary", binary.clone(), Duration::from_secs(60)).await;
    assert_eq!(cache.get("binary").await, Some(binary), "any bytes come back as they went in");
    let after = cache.stats();
    assert_eq!((after.hits - before.hits, after.misses - before.misses), (3, 2));
}

pub async fn lease(lease: &dyn Lease) {
    let ttl = Duration::from_secs(60);
    let a = lease.acquire("job", "a", ttl, 0).await.unwrap().expect("a free lease is granted");
    assert_eq!(lease.acquire("job", "b", ttl, 0).await.unwrap(), None, "held by a");
    assert_eq!(lease.acquire("job", "a", ttl, 0).await.unwrap(), Some(a), "a renewal keeps the token");
    assert_eq!(lease.holder("job").await.unwrap(), Some(("a".to_string(), a)));
    lease.release("job", "b").await.unwrap();
    assert_eq!(lease.acquire("job", "b", ttl, 0).await.unwrap(), None, "only the holder can release");
    lease.release("job", "a").await.unwrap();
    assert_eq!(lease.holder("job").await.unwrap(), None, "released");
    let b = lease.acquire("job", "b", ttl, 0).await.unwrap().expect("released, so free");
    assert!(b.token > a.token, "a new holder gets a larger fencing token");
    // Expiry: a holder that stops renewing loses the lease to the next one.
    let c1 = lease.acquire("short", "c", Duration::from_millis(50), 0).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(lease.holder("short").await.unwrap(), None);
    assert_eq!(lease.acquire("short", "c", ttl, 0).await.unwrap().map(|g| g.token > c1.token), Some(true));
    lease.release("short", "c").await.unwrap();
    let d = lease.acquire("short", "d", ttl, 0).await.unwrap().expect("released, so free");
    assert!(d.token > c1.token && d.token > b.token, "tokens only grow, across names too");
    assert_eq!(lease.acquire("short", "c", ttl, 0).await.unwrap(), None, "the late holder does not get it back");
    // A floor from the store lifts the counter (a lease service that lost it).
    let floor = d.token + 1_000;
    let e = lease.acquire("floored", "e", ttl, floor).await.unwrap().unwrap();
    assert!(e.token > floor, "a grant is above the floor");
    let f = lease.acquire("floored-too", "f", ttl, 0).await.unwrap().unwrap();
    assert!(f.token > e.token, "and the counter stays above it");
    // Racing holders: exactly one wins.
    let (r1, r2, r3, r4) = tokio::join!(
        lease.acquire("race", "r1", ttl, 0),
        lease.acquire("race", "r2", ttl, 0),
        lease.acquire("race", "r3", ttl, 0),
        lease.acquire("race", "r4", ttl, 0),
    );
    let won = [r1, r2, r3, r4].into_iter().map(|r| r.unwrap()).filter(Option::is_some).count();
    assert_eq!(won, 1, "one of four racing holders gets the lease");
}

pub async fn bus(bus: &dyn Bus) {
    bus.publish("nobody.listens", b"x".to_vec()).await.unwrap();
    let mut sub = bus.subscribe("s").await.unwrap();
    let mut other = bus.subscribe("t").await.unwrap();
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

/// `redelivery` is how long an item whose delivery was dropped without an
/// acknowledgement may take to come back (the queue's acknowledgement wait).
pub async fn queue(queue: &dyn WorkQueue, redelivery: Duration) {
    let short = Duration::from_millis(200);
    assert!(queue.pull("empty", short).await.unwrap().is_none(), "an empty queue answers after the wait");
    for i in 0..3u8 {
        queue.push("match", vec![i]).await.unwrap();
    }
    queue.push("other", b"o".to_vec()).await.unwrap();
    let first = queue.pull("match", short).await.unwrap().expect("queued");
    assert_eq!(first.item(), [0]);
    first.ack().await.unwrap();
    let second = queue.pull("match", short).await.unwrap().expect("queued");
    assert_eq!(second.item(), [1]);
    second.retry().await.unwrap();
    // The item handed back comes again, before or after the next one (a
    // durable queue need not put it back in front).
    let (a, b) = (
        queue.pull("match", Duration::from_secs(5)).await.unwrap().expect("queued"),
        queue.pull("match", Duration::from_secs(5)).await.unwrap().expect("queued"),
    );
    let (again, third) = if a.item() == [1] { (a, b) } else { (b, a) };
    assert_eq!((again.item(), third.item()), (&[1][..], &[2][..]), "an item handed back is delivered again");
    again.ack().await.unwrap();
    drop(third); // a consumer that died before acknowledging
    let redelivered = queue.pull("match", redelivery + Duration::from_secs(5)).await.unwrap().expect("redelivered");
    assert_eq!(redelivered.item(), [2], "an unacknowledged item comes back");
    redelivered.ack().await.unwrap();
    assert!(queue.pull("match", redelivery + short).await.unwrap().is_none(), "acknowledged items are gone");
    let other = queue.pull("other", short).await.unwrap().expect("kinds are separate queues");
    assert_eq!(other.item(), b"o");
    other.ack().await.unwrap();
    // A pull waiting on an empty queue takes what is pushed meanwhile.
    let (pulled, ()) = tokio::join!(queue.pull("late", Duration::from_secs(5)), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        queue.push("late", b"l".to_vec()).await.unwrap();
    });
    let late = pulled.unwrap().expect("woken by the push");
    assert_eq!(late.item(), b"l");
    late.ack().await.unwrap();
}
