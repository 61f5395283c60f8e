//! The model registry: every trained model with its version, data fingerprint,
//! metrics and parameters; one active model per kind.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::{Dialect, WriteTx, outbox};

use crate::error::StoreError;
use crate::model::{Activation, Expected, ModelInfo, ModelRetention, NewModel};

/// Names the advisory lock that serialises registry writes on PostgreSQL.
const MODELS_LOCK: i64 = 0x77_6c6d_6f64_656c;

/// Registry writes (numbering versions, activating, pruning) run one at a time:
/// SQLite's single writer, or on PostgreSQL an advisory lock held to commit.
/// They are rare, so serialising them costs nothing; the (kind, version) key
/// and the one-active-per-kind index stay as guards.
async fn lock_registry(w: &mut WriteTx) -> Result<(), StoreError> {
    if w.dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MODELS_LOCK).execute(&mut *w.tx).await?;
    }
    Ok(())
}

async fn get_in(w: &mut WriteTx, id: i64) -> Result<ModelInfo, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLS} FROM models WHERE id = $1")))
        .bind(id)
        .fetch_optional(&mut *w.tx)
        .await?;
    row.map(|r| info(&r)).transpose()?.ok_or(StoreError::NotFound { entity: "model", id })
}

const COLS: &str = "id, kind, version, created_at, data_hash, metrics, params, active, \
     COALESCE(blob_size, LENGTH(blob)) AS bytes, activated_at, activated_by";

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
        activated_at: row.try_get("activated_at")?,
        activated_by: row.try_get("activated_by")?,
    })
}

/// Where a model's bytes are: in its row, or in the object store under a key.
#[derive(Clone, Copy)]
pub(crate) enum Bytes<'a> {
    InRow(&'a [u8]),
    Stored { key: &'a str, size: i64 },
}

pub(crate) async fn register(w: &mut WriteTx, m: &NewModel, bytes: Bytes<'_>) -> Result<ModelInfo, StoreError> {
    lock_registry(w).await?;
    let (next,): (i64,) =
        sqlx::query_as("SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM models WHERE kind = $1")
            .bind(&m.kind)
            .fetch_one(&mut *w.tx)
            .await?;
    let sql = format!(
        "INSERT INTO models (kind, version, created_at, data_hash, metrics, params, active, blob, blob_key, blob_size) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9) RETURNING {COLS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&m.kind)
        .bind(next)
        .bind(w.now)
        .bind(&m.data_hash)
        .bind(serde_json::to_string(&m.metrics)?)
        .bind(serde_json::to_string(&m.params)?);
    let row = match bytes {
        Bytes::InRow(b) => row.bind(b.to_vec()).bind(None::<String>).bind(None::<i64>),
        Bytes::Stored { key, size } => row.bind(Vec::<u8>::new()).bind(Some(key.to_string())).bind(Some(size)),
    }
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

/// A model's bytes as its row has them, or the object store key that holds them.
pub(crate) async fn blob(pool: &AnyPool, id: i64) -> Result<Result<Vec<u8>, String>, StoreError> {
    let row = sqlx::query("SELECT blob, blob_key FROM models WHERE id = $1").bind(id).fetch_optional(pool).await?;
    let row = row.ok_or(StoreError::NotFound { entity: "model", id })?;
    Ok(match row.try_get::<Option<String>, _>("blob_key")? {
        Some(key) => Err(key),
        None => Ok(row.try_get("blob")?),
    })
}

pub(crate) async fn active(pool: &AnyPool, kind: &str) -> Result<Option<ModelInfo>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLS} FROM models WHERE kind = $1 AND active = 1")))
        .bind(kind.to_string())
        .fetch_optional(pool)
        .await?;
    row.map(|r| info(&r)).transpose()
}

/// Makes `id` its kind's active model, unless `how` expects another model to
/// be active (then `None`: someone else chose meanwhile).
pub(crate) async fn activate(w: &mut WriteTx, id: i64, how: &Activation) -> Result<Option<ModelInfo>, StoreError> {
    lock_registry(w).await?;
    let target = get_in(w, id).await?;
    if let Expected::Active(expected) = how.expected {
        let (current,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM models WHERE kind = $1 AND active = 1")
            .bind(&target.kind)
            .fetch_one(&mut *w.tx)
            .await?;
        if current != expected {
            return Ok(None);
        }
    }
    sqlx::query("UPDATE models SET active = 0 WHERE kind = $1 AND active = 1")
        .bind(&target.kind)
        .execute(&mut *w.tx)
        .await?;
    sqlx::query("UPDATE models SET active = 1, activated_at = $1, activated_by = $2 WHERE id = $3")
        .bind(w.now)
        .bind(how.by)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
    let activated = get_in(w, id).await?;
    outbox::emit(w, "model.activated", "model", id, &activated).await?;
    Ok(Some(activated))
}

/// Deletes old versions of a kind: all but the newest `keep_newest`, never the
/// active one nor the one active before it (the rollback target). Returns
/// their ids and the object store keys of their bytes, deleted after commit.
pub(crate) async fn prune(
    w: &mut WriteTx,
    kind: &str,
    keep: ModelRetention,
) -> Result<(Vec<i64>, Vec<String>), StoreError> {
    lock_registry(w).await?;
    let (previous,): (Option<i64>,) = sqlx::query_as(
        "SELECT MAX(id) FROM models WHERE kind = $1 AND active = 0 AND activated_at = \
         (SELECT MAX(activated_at) FROM models WHERE kind = $1 AND active = 0)",
    )
    .bind(kind)
    .fetch_one(&mut *w.tx)
    .await?;
    // Every inactive version, newest first: few rows, since retention runs
    // after each registration.
    let inactive: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, blob_key FROM models WHERE kind = $1 AND active = 0 ORDER BY version DESC")
            .bind(kind)
            .fetch_all(&mut *w.tx)
            .await?;
    let (ids, keys): (Vec<i64>, Vec<Option<String>>) =
        inactive.into_iter().skip(keep.keep_newest as usize).filter(|(id, _)| Some(*id) != previous).unzip();
    for id in &ids {
        sqlx::query("DELETE FROM models WHERE id = $1").bind(id).execute(&mut *w.tx).await?;
    }
    if !ids.is_empty() {
        outbox::emit(w, "models.pruned", "model", ids[0], &ids).await?;
    }
    Ok((ids, keys.into_iter().flatten().collect()))
}
