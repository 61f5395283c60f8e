//! Where model files (and, later, images) live, through one interface: the
//! `object_store` crate. Without one configured, a model's bytes stay in its
//! database row (the system of record: every node that reaches the database
//! reads them); with one, the row keeps the object's key and size, and the
//! bytes go to a folder (the embedded default: the data folder's `blobs/`,
//! or one every node mounts) or to an S3-compatible store.

use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::StoreError;

/// An object store holding blobs under keys like `models/classifier/<hex>.bin`.
pub type Blobs = Arc<dyn ObjectStore>;

/// The object store a location names: `memory:` (tests only: it ends with
/// the process), `file:///abs/path`
/// or a plain folder path (created if missing), or, built with the `s3`
/// feature, `s3://bucket[/prefix]` (any S3-compatible store; credentials,
/// region and endpoint from the `AWS_*` environment, e.g.
/// `AWS_ENDPOINT=http://127.0.0.1:9000` with `AWS_ALLOW_HTTP=true`).
pub fn open_blobs(location: &str) -> Result<Blobs, StoreError> {
    if location == "memory:" {
        return Ok(Arc::new(InMemory::new()));
    }
    if let Some(rest) = location.strip_prefix("s3://") {
        return s3(rest);
    }
    let dir = location.strip_prefix("file://").unwrap_or(location);
    if dir.is_empty() || dir.contains("://") {
        return Err(StoreError::Blob(format!(
            "unsupported blob store {location:?}: use a folder, file:///folder, s3://bucket[/prefix] or memory:"
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| StoreError::Blob(format!("cannot create {dir}: {e}")))?;
    let fs = LocalFileSystem::new_with_prefix(dir).map_err(|e| StoreError::Blob(e.to_string()))?;
    Ok(Arc::new(fs))
}

#[cfg(not(feature = "s3"))]
fn s3(_: &str) -> Result<Blobs, StoreError> {
    Err(StoreError::Blob("this build has no S3 support: build with `--features s3`".into()))
}

#[cfg(feature = "s3")]
fn s3(bucket_and_prefix: &str) -> Result<Blobs, StoreError> {
    use object_store::aws::AmazonS3Builder;
    use object_store::prefix::PrefixStore;
    // rustls needs one process-wide crypto provider; this project's is ring.
    // Installing it twice is harmless (the second call is refused).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (bucket, prefix) = bucket_and_prefix.split_once('/').unwrap_or((bucket_and_prefix, ""));
    if bucket.is_empty() {
        return Err(StoreError::Blob("s3:// needs a bucket: s3://bucket[/prefix]".into()));
    }
    let s3 = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .build()
        .map_err(|e| StoreError::Blob(format!("s3://{bucket_and_prefix}: {e}")))?;
    let prefix = prefix.trim_matches('/');
    Ok(if prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, prefix)) })
}

pub(crate) async fn put(blobs: &dyn ObjectStore, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
    blobs.put(&Path::from(key), bytes.into()).await.map(|_| ()).map_err(|e| StoreError::Blob(e.to_string()))
}

pub(crate) async fn get(blobs: &dyn ObjectStore, key: &str) -> Result<Vec<u8>, StoreError> {
    let got = blobs.get(&Path::from(key)).await.map_err(|e| StoreError::Blob(format!("{key}: {e}")))?;
    let bytes = got.bytes().await.map_err(|e| StoreError::Blob(format!("{key}: {e}")))?;
    Ok(bytes.to_vec())
}

/// Deletes `key`; a missing object is not an error (deletion is retried).
pub(crate) async fn delete(blobs: &dyn ObjectStore, key: &str) {
    match blobs.delete(&Path::from(key)).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => tracing::warn!(key, error = %e, "cannot delete a blob; it stays as an orphan"),
    }
}

/// A fresh key for a model's bytes: unique, so a registration that fails
/// after writing its object never overwrites another's.
/// Keys for an image's original and thumbnail.
pub(crate) fn image_keys(owner: &str, owner_id: i64) -> (String, String) {
    let nonce = model_key("x");
    let nonce = nonce.trim_start_matches("models/x/").trim_end_matches(".bin");
    (format!("images/{owner}/{owner_id}/{nonce}"), format!("images/{owner}/{owner_id}/{nonce}.thumb.jpg"))
}

pub(crate) fn model_key(kind: &str) -> String {
    use sha2::Digest;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let kind: String = kind.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    // Time, process and a counter: unique across the nodes' processes.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let seed = format!("{now}:{}:{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let digest = sha2::Sha256::digest(seed.as_bytes());
    let nonce: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("models/{kind}/{nonce}.bin")
}
