//! Retention: old outbox events, idempotency keys, interactions and finished
//! jobs are deleted by age, a batch per transaction, and never ahead of their
//! consumers: events stay until every consumer seen recently has passed them,
//! interactions until the latest recommender has trained on them.

use sqlx::AnyPool;

use super::WriteTx;
use crate::error::StoreError;

/// Rows deleted per statement, so no transaction holds locks for long.
pub(crate) const BATCH: i64 = 5_000;
const PRUNED_THROUGH: &str = "events_pruned_through";

pub(crate) async fn record_consumer(w: &mut WriteTx, name: &str, position: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO consumers (name, position, seen_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET position = excluded.position, seen_at = excluded.seen_at",
    )
    .bind(name)
    .bind(position)
    .bind(w.now)
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}

pub(crate) async fn pruned_through(pool: &AnyPool) -> Result<i64, StoreError> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT value FROM meta WHERE key = $1").bind(PRUNED_THROUGH).fetch_optional(pool).await?;
    Ok(row.map_or(0, |r| r.0))
}

/// The newest event id that may go: older than `cutoff` and passed by every
/// consumer seen since `consumers_since`.
pub(crate) async fn events_bound(pool: &AnyPool, cutoff: i64, consumers_since: i64) -> Result<i64, StoreError> {
    let (old,): (Option<i64>,) =
        sqlx::query_as("SELECT MAX(id) FROM events WHERE created_at < $1").bind(cutoff).fetch_one(pool).await?;
    let (slowest,): (Option<i64>,) = sqlx::query_as("SELECT MIN(position) FROM consumers WHERE seen_at >= $1")
        .bind(consumers_since)
        .fetch_one(pool)
        .await?;
    Ok(match (old, slowest) {
        (Some(o), Some(s)) => o.min(s),
        (Some(o), None) => o,
        (None, _) => 0,
    })
}

/// Deletes up to [`BATCH`] events with `id <= bound` and records how far the
/// outbox is pruned.
pub(crate) async fn delete_events(w: &mut WriteTx, bound: i64) -> Result<u64, StoreError> {
    let (through,): (Option<i64>,) =
        sqlx::query_as("SELECT MAX(id) FROM (SELECT id FROM events WHERE id <= $1 ORDER BY id LIMIT $2) AS batch")
            .bind(bound)
            .bind(BATCH)
            .fetch_one(&mut *w.tx)
            .await?;
    let Some(through) = through else { return Ok(0) };
    let deleted = sqlx::query("DELETE FROM events WHERE id <= $1").bind(through).execute(&mut *w.tx).await?;
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = CASE WHEN excluded.value > meta.value THEN excluded.value ELSE meta.value END",
    )
    .bind(PRUNED_THROUGH)
    .bind(through)
    .execute(&mut *w.tx)
    .await?;
    Ok(deleted.rows_affected())
}

/// Deletes up to [`BATCH`] rows of `table` (keyed by `key`) matching `condition`
/// with `$1` bound to `value`.
pub(crate) async fn delete_batch(
    w: &mut WriteTx,
    table: &str,
    key: &str,
    condition: &str,
    value: i64,
) -> Result<u64, StoreError> {
    let sql = format!(
        "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} ORDER BY {key} LIMIT {BATCH})"
    );
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(value).execute(&mut *w.tx).await?.rows_affected())
}

/// Marks jobs still running since before `cutoff` as failed, with a problem
/// saying so.
pub(crate) async fn abandon_jobs(w: &mut WriteTx, cutoff: i64) -> Result<u64, StoreError> {
    let problem = serde_json::json!({
        "type": "/problems/abandoned", "title": "Job abandoned", "status": 500,
        "detail": "the job did not finish in time (its node may have stopped); start it again",
    });
    let done = sqlx::query(
        "UPDATE jobs SET status = 'failed', finished_at = $1, error = $2 WHERE status = 'running' AND created_at < $3",
    )
    .bind(w.now)
    .bind(problem.to_string())
    .bind(cutoff)
    .execute(&mut *w.tx)
    .await?;
    Ok(done.rows_affected())
}
