//! Jobs: long work started through the API, readable from any node.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::WriteTx;
use crate::error::StoreError;
use crate::model::{Job, JobStatus};

const COLS: &str = "id, kind, status, created_at, finished_at, result, error, actor_key";

fn job(row: &AnyRow) -> Result<Job, StoreError> {
    let json = |col: &str| -> Result<Option<serde_json::Value>, StoreError> {
        let raw: Option<String> = row.try_get(col)?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    };
    let status: String = row.try_get("status")?;
    Ok(Job {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        status: JobStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("job status {status:?}")))?,
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
        result: json("result")?,
        error: json("error")?,
        actor_key: row.try_get("actor_key")?,
    })
}

pub(crate) async fn create(w: &mut WriteTx, kind: &str) -> Result<Job, StoreError> {
    let sql = format!(
        "INSERT INTO jobs (kind, status, created_at, actor_key) VALUES ($1, 'running', $2, $3) RETURNING {COLS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(kind).bind(w.now).bind(w.actor).fetch_one(&mut *w.tx).await?;
    job(&row)
}

/// Records how a running job ended (a finished job stays as it ended).
pub(crate) async fn finish(
    w: &mut WriteTx,
    id: i64,
    outcome: Result<&serde_json::Value, &serde_json::Value>,
) -> Result<Job, StoreError> {
    let (status, result, error) = match outcome {
        Ok(r) => (JobStatus::Succeeded, Some(serde_json::to_string(r)?), None),
        Err(e) => (JobStatus::Failed, None, Some(serde_json::to_string(e)?)),
    };
    let sql = format!(
        "UPDATE jobs SET status = $1, finished_at = $2, result = $3, error = $4 \
         WHERE id = $5 AND status = 'running' RETURNING {COLS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(status.as_str())
        .bind(w.now)
        .bind(result)
        .bind(error)
        .bind(id)
        .fetch_optional(&mut *w.tx)
        .await?;
    match row {
        Some(r) => job(&r),
        None => Err(StoreError::illegal("job", id, "finish", "finished")),
    }
}

pub(crate) async fn get(pool: &AnyPool, id: i64) -> Result<Job, StoreError> {
    let sql = format!("SELECT {COLS} FROM jobs WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
    row.map(|r| job(&r)).transpose()?.ok_or(StoreError::NotFound { entity: "job", id })
}
