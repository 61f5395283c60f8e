//! Retention: old outbox events, idempotency keys, interactions and finished
//! jobs are deleted by age, a batch per transaction, and never ahead of their
//! consumers: events stay until every consumer seen recently has passed them,
//! interactions until the latest recommender has trained on them.

use sqlx::AnyPool;

use super::{SqlStore, WriteTx, write_tx};
use crate::error::StoreError;
use crate::model::{PruneReport, RetentionPolicy};

/// Rows deleted per statement, so no transaction holds locks for long.
const BATCH: i64 = 5_000;
const PRUNED_THROUGH: &str = "events_pruned_through";

/// Deletes what `p` says may go, each kind in batches of [`BATCH`].
pub(crate) async fn prune(store: &SqlStore, p: &RetentionPolicy) -> Result<PruneReport, StoreError> {
    let mut report = PruneReport::default();
    if let Some(age) = p.events {
        let bound = events_bound(store.pool(), p.now - age, p.now - p.consumer_ttl).await?;
        report.events = in_batches(store, Batch::Events { through: bound }).await?;
    }
    if let Some(age) = p.idempotency_keys {
        let rows = Batch::Rows { table: "idempotency", key: "key", condition: "created_at < $1", value: p.now - age };
        report.idempotency_keys = in_batches(store, rows).await?;
    }
    if let (Some(age), Some(through)) = (p.interactions, p.interactions_trained_through) {
        // The id bound first: the newest old interaction the model has seen.
        let (bound,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(id) FROM interactions WHERE created_at < $1 AND id <= $2")
                .bind(p.now - age)
                .bind(through)
                .fetch_one(store.pool())
                .await?;
        if let Some(bound) = bound {
            let rows = Batch::Rows { table: "interactions", key: "id", condition: "id <= $1", value: bound };
            report.interactions = in_batches(store, rows).await?;
        }
    }
    if let Some(age) = p.abandoned_jobs {
        let out = write_tx!(store, None, |w| abandon_jobs(w, p.now - age).await)?;
        report.abandoned_jobs = out.done().unwrap_or(0);
    }
    if let Some(age) = p.finished_jobs {
        let condition = "status <> 'running' AND created_at < $1";
        report.jobs =
            in_batches(store, Batch::Rows { table: "jobs", key: "id", condition, value: p.now - age }).await?;
        // Leader-only jobs' runs go at the age finished jobs go.
        let runs =
            Batch::Rows { table: "job_runs", key: "started_at", condition: "started_at < $1", value: p.now - age };
        report.job_runs = in_batches(store, runs).await?;
    }
    if let Some(age) = p.open_questions {
        let condition = "resolved_at IS NULL AND created_at < $1";
        let rows = Batch::Rows { table: "asked_questions", key: "id", condition, value: p.now - age };
        report.open_questions = in_batches(store, rows).await?;
    }
    // A node gone for longer than a consumer may be is no longer listed.
    let gone = Batch::Rows { table: "nodes", key: "id", condition: "last_seen < $1", value: p.now - p.consumer_ttl };
    report.nodes = in_batches(store, gone).await?;
    Ok(report)
}

/// One kind of batched delete.
enum Batch {
    /// Outbox events through this id (recording how far the outbox is pruned).
    Events { through: i64 },
    /// Rows of `table` (keyed by `key`) matching `condition`, `$1` being `value`.
    Rows { table: &'static str, key: &'static str, condition: &'static str, value: i64 },
}

/// Deletes `batch` one transaction of [`BATCH`] rows at a time until fewer
/// remain; returns how many it deleted in all.
async fn in_batches(store: &SqlStore, batch: Batch) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let out = write_tx!(store, None, |w| match batch {
            Batch::Events { through } => delete_events(w, through).await,
            Batch::Rows { table, key, condition, value } => delete_batch(w, table, key, condition, value).await,
        })?;
        let n = out.done().unwrap_or(0);
        total += n;
        if n < BATCH as u64 {
            return Ok(total);
        }
    }
}

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
async fn events_bound(pool: &AnyPool, cutoff: i64, consumers_since: i64) -> Result<i64, StoreError> {
    // The newest-stamped event before the cutoff, one seek of `events_by_age`.
    // (`MAX(id) … WHERE created_at < $1` walked the ids backwards past every
    // newer event: 24 s at two million.) It may be below that maximum when an
    // event stamped earlier committed later (a higher id): that one goes at a
    // later sweep.
    let old: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM events WHERE created_at < $1 ORDER BY created_at DESC, id DESC LIMIT 1")
            .bind(cutoff)
            .fetch_optional(pool)
            .await?;
    let old = old.map(|(id,)| id);
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
async fn delete_events(w: &mut WriteTx, bound: i64) -> Result<u64, StoreError> {
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
async fn delete_batch(w: &mut WriteTx, table: &str, key: &str, condition: &str, value: i64) -> Result<u64, StoreError> {
    let sql = format!(
        "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} ORDER BY {key} LIMIT {BATCH})"
    );
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(value).execute(&mut *w.tx).await?.rows_affected())
}

/// Marks jobs still running since before `cutoff` as failed, with a problem
/// saying so.
async fn abandon_jobs(w: &mut WriteTx, cutoff: i64) -> Result<u64, StoreError> {
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
