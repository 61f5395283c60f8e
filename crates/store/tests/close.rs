//! Closing a store while writers keep writing (a server's background tasks
//! at shutdown): the close finishes, and a write after it is refused rather
//! than waiting. The race that once hung SQLite's close is rare here; its
//! unit test (`sql/group.rs`) makes it happen every time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use wantloop_core::OfferInput;
use wantloop_store::Store;
use wantloop_store::testing::TestDb;

async fn write(store: &dyn Store) -> bool {
    let input = OfferInput {
        provider: "p".into(),
        text: "bike".into(),
        category: "bicycles".into(),
        price: 100,
        ..Default::default()
    };
    store.create_offer(&input.parse().unwrap(), None).await.is_ok()
}

async fn close_under_writes(db: &TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let written = Arc::new(AtomicUsize::new(0));
    // Each writer writes until one of its writes is refused (after close).
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (store, written) = (store.clone(), written.clone());
            tokio::spawn(async move {
                while write(&*store).await {
                    written.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // Close once they are writing (a writer refused before the close would
    // stop early: fail rather than wait for writes that never come).
    let writing = async {
        while written.load(Ordering::Relaxed) < 20 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), writing)
        .await
        .expect("the writers' writes are taken before the close");
    tokio::time::timeout(Duration::from_secs(20), db.store.close())
        .await
        .expect("the store closes while writers keep writing");
    let refused = tokio::time::timeout(Duration::from_secs(20), write(&*store)).await;
    assert_eq!(refused, Ok(false), "a write after close is refused, not left waiting");
    for w in writers {
        tokio::time::timeout(Duration::from_secs(20), w).await.expect("writers end").unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_closes_under_writes() {
    // Repeated: the close races the writers differently each time.
    for _ in 0..20 {
        let db = TestDb::sqlite().await.unwrap();
        close_under_writes(&db).await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_closes_under_writes() {
    let Some(db) = TestDb::postgres().await.expect("postgres test database") else { return };
    close_under_writes(&db).await;
    db.cleanup().await;
}
