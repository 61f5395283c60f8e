//! Stored responses of idempotent requests, keyed by the client's `Idempotency-Key`.

use sqlx::{AnyPool, Row};

use super::WriteTx;
use crate::error::StoreError;
use crate::model::{IdemKey, StoredResponse};

fn check(key: &IdemKey, row: &sqlx::any::AnyRow) -> Result<StoredResponse, StoreError> {
    let fingerprint: String = row.try_get("fingerprint")?;
    if fingerprint != key.fingerprint {
        return Err(StoreError::IdempotencyKeyReused(key.key.clone()));
    }
    let status: i64 = row.try_get("status")?;
    Ok(StoredResponse { status: status as u16, body: row.try_get("body")? })
}

const FIND: &str = "SELECT fingerprint, status, body FROM idempotency WHERE key = $1";

pub(crate) async fn find(w: &mut WriteTx, key: &IdemKey) -> Result<Option<StoredResponse>, StoreError> {
    let row = sqlx::query(FIND).bind(&key.key).fetch_optional(&mut *w.tx).await?;
    row.map(|r| check(key, &r)).transpose()
}

/// Reads the response a concurrent request committed for the same key.
pub(crate) async fn find_committed(pool: &AnyPool, key: &IdemKey) -> Result<StoredResponse, StoreError> {
    let row = sqlx::query(FIND).bind(&key.key).fetch_one(pool).await?;
    check(key, &row)
}

pub(crate) async fn insert(w: &mut WriteTx, key: &IdemKey, body: &str) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO idempotency (key, fingerprint, status, body, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&key.key)
        .bind(&key.fingerprint)
        .bind(i64::from(key.status))
        .bind(body)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await?;
    Ok(())
}
