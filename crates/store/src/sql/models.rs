//! The model registry: every trained model with its version, data fingerprint,
//! metrics and parameters; one active model per kind.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::{Dialect, WriteTx, outbox};

/// Names the advisory lock that serialises model registrations on PostgreSQL.
const MODELS_LOCK: i64 = 0x77_6c6d_6f64_656c;
use crate::error::StoreError;
use crate::model::{ModelInfo, NewModel};

const COLS: &str = "id, kind, version, created_at, data_hash, metrics, params, active, LENGTH(blob) AS bytes";

fn info(row: &AnyRow) -> Result<ModelInfo, StoreError> {
    let metrics: String = row.try_get("metrics")?;
    let params: String = row.try_get("params")?;
    Ok(ModelInfo {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        data_hash: row.try_get("data_hash")?,
        metrics: serde_json::from_str(&metrics)?,
        params: serde_json::from_str(&params)?,
        active: row.try_get::<i64, _>("active")? != 0,
        bytes: row.try_get::<i64, _>("bytes").or_else(|_| row.try_get::<i32, _>("bytes").map(i64::from))?,
    })
}

pub(crate) async fn register(w: &mut WriteTx, m: &NewModel) -> Result<ModelInfo, StoreError> {
    // Versions are numbered under a lock: SQLite's single writer, or on
    // PostgreSQL an advisory lock held to commit (registrations are rare, so
    // serialising them costs nothing; the (kind, version) key stays as a guard).
    if w.dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MODELS_LOCK).execute(&mut *w.tx).await?;
    }
    let (next,): (i64,) =
        sqlx::query_as("SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM models WHERE kind = $1")
            .bind(&m.kind)
            .fetch_one(&mut *w.tx)
            .await?;
    let sql = format!(
        "INSERT INTO models (kind, version, created_at, data_hash, metrics, params, active, blob) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7) RETURNING {COLS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&m.kind)
        .bind(next)
        .bind(w.now)
        .bind(&m.data_hash)
        .bind(serde_json::to_string(&m.metrics)?)
        .bind(serde_json::to_string(&m.params)?)
        .bind(m.blob.clone())
        .fetch_one(&mut *w.tx)
        .await?;
    let created = info(&row)?;
    outbox::emit(w, "model.registered", "model", created.id, &created).await?;
    Ok(created)
}

pub(crate) async fn list(pool: &AnyPool, kind: Option<&str>) -> Result<Vec<ModelInfo>, StoreError> {
    let rows = match kind {
        Some(k) => {
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLS} FROM models WHERE kind = $1 ORDER BY id")))
                .bind(k.to_string())
                .fetch_all(pool)
                .await?
        }
        None => {
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLS} FROM models ORDER BY id"))).fetch_all(pool).await?
        }
    };
    rows.iter().map(info).collect()
}

pub(crate) async fn get(pool: &AnyPool, id: i64) -> Result<ModelInfo, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLS} FROM models WHERE id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(|r| info(&r)).transpose()?.ok_or(StoreError::NotFound { entity: "model", id })
}

pub(crate) async fn blob(pool: &AnyPool, id: i64) -> Result<Vec<u8>, StoreError> {
    let row = sqlx::query("SELECT blob FROM models WHERE id = $1").bind(id).fetch_optional(pool).await?;
    let row = row.ok_or(StoreError::NotFound { entity: "model", id })?;
    Ok(row.try_get("blob")?)
}

pub(crate) async fn active(pool: &AnyPool, kind: &str) -> Result<Option<ModelInfo>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLS} FROM models WHERE kind = $1 AND active = 1")))
        .bind(kind.to_string())
        .fetch_optional(pool)
        .await?;
    row.map(|r| info(&r)).transpose()
}

pub(crate) async fn activate(w: &mut WriteTx, pool: &AnyPool, id: i64) -> Result<ModelInfo, StoreError> {
    let target = get(pool, id).await?;
    sqlx::query("UPDATE models SET active = 0 WHERE kind = $1 AND active = 1")
        .bind(&target.kind)
        .execute(&mut *w.tx)
        .await?;
    sqlx::query("UPDATE models SET active = 1 WHERE id = $1").bind(id).execute(&mut *w.tx).await?;
    let activated = ModelInfo { active: true, ..target };
    outbox::emit(w, "model.activated", "model", id, &activated).await?;
    Ok(activated)
}
