//! Model files in an object store (a folder here, as every node mounts one):
//! the row names the object, any store on the folder reads it, a store
//! without it says so, old in-row models still load, pruning deletes the
//! objects, and a refused registration leaves none. SQLite and PostgreSQL.

use std::path::Path;

use wantloop_store::testing::TestDb;
use wantloop_store::{Fence, ModelRetention, NewModel, SqlStore, Store, StoreError, open_blobs};

fn model(kind: &str, bytes: &[u8]) -> NewModel {
    NewModel {
        kind: kind.into(),
        data_hash: "h".into(),
        metrics: serde_json::json!({}),
        params: serde_json::json!({}),
        blob: bytes.to_vec(),
    }
}

fn objects(dir: &Path) -> usize {
    fn walk(d: &Path) -> usize {
        std::fs::read_dir(d)
            .map(|it| it.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum::<usize>())
            .unwrap_or(0)
    }
    walk(dir)
}

async fn model_files_live_in_the_object_store(db: &TestDb) {
    let folder = tempfile::tempdir().unwrap();
    let location = folder.path().display().to_string();
    let a = db.store.clone().with_blobs(open_blobs(&location).unwrap());
    let kind =
        format!("kind{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());

    let info = a.register_model(&model(&kind, b"model bytes, version one")).await.unwrap();
    assert_eq!(info.bytes, 24, "the size is the object's, not the empty row's");
    assert_eq!(objects(folder.path()), 1);
    assert_eq!(a.model_blob(info.id).await.unwrap(), b"model bytes, version one");

    // Another node on the same database and folder reads it.
    let b = SqlStore::connect(&db.url).await.unwrap().with_blobs(open_blobs(&format!("file://{location}")).unwrap());
    assert_eq!(b.model_blob(info.id).await.unwrap(), b"model bytes, version one");
    // A node without the object store cannot, and says why.
    let plain = SqlStore::connect(&db.url).await.unwrap();
    assert!(matches!(plain.model_blob(info.id).await, Err(StoreError::Blob(_))));
    // A model stored in its row before is still read by a node with one.
    let old = plain.register_model(&model(&kind, b"in the row")).await.unwrap();
    assert_eq!(a.model_blob(old.id).await.unwrap(), b"in the row");
    assert_eq!(objects(folder.path()), 1);

    // Pruning deletes the objects of the versions it deletes.
    a.register_model(&model(&kind, b"three")).await.unwrap();
    let pruned = a.prune_models(&kind, ModelRetention { keep_newest: 1 }).await.unwrap();
    assert_eq!(pruned.len(), 2);
    assert_eq!(objects(folder.path()), 1, "only the newest version's object is left");

    // A registration the store refuses (a fenced-off leader) leaves no object.
    let lease = format!("blobs-test-{kind}");
    a.fenced(Fence { lease: lease.clone(), token: 5 }).claim_run(&lease, 1, "n").await.unwrap();
    let late = a.fenced(Fence { lease, token: 4 }).register_model(&model(&kind, b"late")).await;
    assert!(matches!(late, Err(StoreError::Fenced { .. })), "got {late:?}");
    assert_eq!(objects(folder.path()), 1);
}

#[tokio::test]
async fn model_files_live_in_the_object_store_on_sqlite() {
    let db = TestDb::sqlite().await.unwrap();
    model_files_live_in_the_object_store(&db).await;
    db.cleanup().await;
}

#[tokio::test]
async fn model_files_live_in_the_object_store_on_postgres() {
    let Some(db) = TestDb::postgres().await.unwrap() else { return };
    model_files_live_in_the_object_store(&db).await;
    db.cleanup().await;
}

#[cfg(feature = "s3")]
/// An S3-compatible store named by `WANTLOOP_TEST_S3_URL` (`s3://bucket`, the
/// bucket made beforehand; endpoint and credentials in `AWS_*`), as `.ci/run`
/// starts one; skipped with a notice unless `WANTLOOP_REQUIRE_S3` is set.
fn s3_location() -> Option<String> {
    match std::env::var("WANTLOOP_TEST_S3_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("WANTLOOP_REQUIRE_S3").is_some() => {
            panic!("WANTLOOP_REQUIRE_S3 is set but WANTLOOP_TEST_S3_URL is not")
        }
        Err(_) => {
            eprintln!("notice: WANTLOOP_TEST_S3_URL is not set; skipping the S3 blob store test");
            None
        }
    }
}

#[cfg(feature = "s3")]
#[tokio::test]
async fn model_files_live_in_an_s3_compatible_store() {
    let Some(bucket) = s3_location() else { return };
    let db = TestDb::sqlite().await.unwrap();
    let prefix =
        format!("test-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    let blobs = open_blobs(&format!("{}/{prefix}", bucket.trim_end_matches('/'))).unwrap();
    let a = db.store.clone().with_blobs(blobs.clone());
    let info = a.register_model(&model("classifier", b"bytes in a bucket")).await.unwrap();
    assert_eq!(info.bytes, 17);
    // Another node, another client of the same bucket and prefix.
    let again = open_blobs(&format!("{}/{prefix}", bucket.trim_end_matches('/'))).unwrap();
    let b = SqlStore::connect(&db.url).await.unwrap().with_blobs(again);
    assert_eq!(b.model_blob(info.id).await.unwrap(), b"bytes in a bucket");
    a.register_model(&model("classifier", b"two")).await.unwrap();
    a.register_model(&model("classifier", b"three")).await.unwrap();
    assert_eq!(a.prune_models("classifier", ModelRetention { keep_newest: 1 }).await.unwrap().len(), 2);
    use futures_util::TryStreamExt;
    let left: Vec<_> = blobs.list(None).try_collect().await.unwrap();
    assert_eq!(left.len(), 1, "pruning deleted the objects: {left:?}");
    db.cleanup().await;
}

#[test]
fn an_unsupported_location_is_a_clear_error() {
    let e = open_blobs("gs://bucket/models").expect_err("gcs is not built in");
    assert!(e.to_string().contains("unsupported blob store"), "{e}");
    let e = open_blobs("s3://").expect_err("a bucket is needed, and without the feature no S3 at all");
    let want = if cfg!(feature = "s3") { "needs a bucket" } else { "no S3 support" };
    assert!(e.to_string().contains(want), "{e}");
}

async fn image_bytes_live_in_the_object_store(db: &TestDb) {
    use wantloop_core::OfferInput;
    use wantloop_store::{ImageOwner, NewImage};
    let folder = tempfile::tempdir().unwrap();
    let a = db.store.clone().with_blobs(open_blobs(&folder.path().display().to_string()).unwrap());
    let input = OfferInput {
        provider: "p".into(),
        text: "a bicycle".into(),
        category: "bicycles".into(),
        ..Default::default()
    };
    let o = a.create_offer(&input.parse().unwrap(), None).await.unwrap().done().unwrap();
    let image = |tag: u8| NewImage {
        owner: ImageOwner::Offer,
        owner_id: o.id,
        content_type: "image/jpeg".into(),
        width: 2,
        height: 2,
        sha256: "s".into(),
        features: "f".into(),
        vector: vec![1.0],
        original: vec![tag; 100],
        thumbnail: vec![tag; 5],
    };
    let first = a.add_image(&image(1), 1).await.unwrap();
    assert_eq!(objects(folder.path()), 2, "the original and its thumbnail");
    assert_eq!(a.image_bytes(ImageOwner::Offer, o.id, first.position, false).await.unwrap().1, vec![1u8; 100]);
    assert_eq!(a.image_bytes(ImageOwner::Offer, o.id, first.position, true).await.unwrap().1, vec![1u8; 5]);
    // Refused (over the limit): its objects are deleted again.
    assert!(matches!(a.add_image(&image(2), 1).await, Err(StoreError::TooManyImages { .. })));
    assert_eq!(objects(folder.path()), 2);
    a.delete_image(ImageOwner::Offer, o.id, first.position).await.unwrap();
    assert_eq!(objects(folder.path()), 0, "deleting an image deletes its objects");
}

#[tokio::test]
async fn image_bytes_live_in_the_object_store_on_sqlite() {
    let db = TestDb::sqlite().await.unwrap();
    image_bytes_live_in_the_object_store(&db).await;
    db.cleanup().await;
}

#[tokio::test]
async fn image_bytes_live_in_the_object_store_on_postgres() {
    let Some(db) = TestDb::postgres().await.unwrap() else { return };
    image_bytes_live_in_the_object_store(&db).await;
    db.cleanup().await;
}
