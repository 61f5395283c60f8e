//! API keys: created with a fresh secret (only its hash is stored), listed,
//! looked up for a request, revoked. Creation and revocation are events like
//! every other change, so the audit trail shows who made or revoked a key.

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use wantloop_core::{ApiKey, NewKey, Role};

use super::{WriteTx, outbox};
use crate::error::StoreError;

const COLS: &str = "id, role, party, name, created_at, revoked_at";

fn key(row: &AnyRow) -> Result<ApiKey, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(ApiKey {
        id: row.try_get("id")?,
        role: Role::parse("role", &role).map_err(|_| StoreError::Corrupt(format!("key role {role:?}")))?,
        party: row.try_get("party")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub(crate) async fn create(w: &mut WriteTx, new: &NewKey, secret_hash: &str) -> Result<ApiKey, StoreError> {
    let sql = format!(
        "INSERT INTO api_keys (role, party, name, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING {COLS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(new.role.as_str())
        .bind(new.party.as_ref().map(|p| p.as_str().to_string()))
        .bind(new.name.as_str())
        .bind(secret_hash)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await?;
    let created = key(&row)?;
    outbox::emit(w, "key.created", "key", created.id, &json!(created)).await?;
    Ok(created)
}

/// Revokes a key; revoking it again changes nothing and answers it as it is.
pub(crate) async fn revoke(w: &mut WriteTx, id: i64) -> Result<ApiKey, StoreError> {
    let sql = format!("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING {COLS}");
    match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(w.now).bind(id).fetch_optional(&mut *w.tx).await? {
        Some(row) => {
            let revoked = key(&row)?;
            outbox::emit(w, "key.revoked", "key", id, &json!(revoked)).await?;
            Ok(revoked)
        }
        None => {
            let sql = format!("SELECT {COLS} FROM api_keys WHERE id = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *w.tx).await?;
            row.map(|r| key(&r)).transpose()?.ok_or(StoreError::NotFound { entity: "key", id })
        }
    }
}

pub(crate) async fn list(pool: &AnyPool) -> Result<Vec<ApiKey>, StoreError> {
    let sql = format!("SELECT {COLS} FROM api_keys ORDER BY id");
    sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?.iter().map(key).collect()
}

/// A key and its secret's hash, to check a presented key against.
pub(crate) async fn with_hash(pool: &AnyPool, id: i64) -> Result<Option<(ApiKey, String)>, StoreError> {
    let sql = format!("SELECT {COLS}, secret_hash FROM api_keys WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
    row.map(|r| Ok((key(&r)?, r.try_get("secret_hash")?))).transpose()
}

pub(crate) async fn any_admin(pool: &AnyPool) -> Result<bool, StoreError> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL")
        .fetch_one(pool)
        .await?;
    Ok(n > 0)
}
