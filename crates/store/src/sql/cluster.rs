//! What several nodes share through the store: fencing tokens (a leader-only
//! write carries its lease's token and is refused once a higher one was seen),
//! the runs of leader-only jobs (one per job and period), and the nodes'
//! heartbeats. The lease itself lives in the lease service (Redis or in
//! process); the store is where a late holder's writes are stopped, because it
//! is what they would change.

use sqlx::AnyPool;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::WriteTx;
use crate::error::StoreError;
use crate::model::{Fence, JobRun, NodeInfo};

fn token(t: u64) -> Result<i64, StoreError> {
    i64::try_from(t).map_err(|_| StoreError::Corrupt(format!("fencing token {t} exceeds a BIGINT")))
}

/// Records `fence` as the highest token of its lease, or refuses the write
/// if a higher one was seen. On PostgreSQL the upsert also locks the lease's
/// row until the transaction ends, so a newer holder's first write waits for
/// an older holder's write in flight instead of slipping in under it.
pub(crate) async fn check(w: &mut WriteTx, fence: &Fence) -> Result<(), StoreError> {
    let done = sqlx::query(
        "INSERT INTO fences (name, token) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET token = excluded.token WHERE fences.token <= excluded.token",
    )
    .bind(&fence.lease)
    .bind(token(fence.token)?)
    .execute(&mut *w.tx)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    let (highest,): (i64,) =
        sqlx::query_as("SELECT token FROM fences WHERE name = $1").bind(&fence.lease).fetch_one(&mut *w.tx).await?;
    Err(StoreError::Fenced { lease: fence.lease.clone(), token: fence.token, highest: highest.max(0) as u64 })
}

/// The highest token seen for `lease` (0: none).
pub(crate) async fn highest(pool: &AnyPool, lease: &str) -> Result<u64, StoreError> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT token FROM fences WHERE name = $1").bind(lease).fetch_optional(pool).await?;
    Ok(row.map_or(0, |(t,)| t.max(0) as u64))
}

/// Records that `job` runs for `period` on `node`; `false` if that period
/// already ran (on any node).
pub(crate) async fn claim_run(
    w: &mut WriteTx,
    fence: Option<&Fence>,
    job: &str,
    period: i64,
    node: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO job_runs (job, period, token, node, started_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (job, period) DO NOTHING",
    )
    .bind(job)
    .bind(period)
    .bind(token(fence.map_or(0, |f| f.token))?)
    .bind(node)
    .bind(w.now)
    .execute(&mut *w.tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn run(row: &AnyRow) -> Result<JobRun, StoreError> {
    Ok(JobRun {
        job: row.try_get("job")?,
        period: row.try_get("period")?,
        token: row.try_get("token")?,
        node: row.try_get("node")?,
        started_at: row.try_get("started_at")?,
    })
}

/// The newest run of every job.
pub(crate) async fn latest_runs(pool: &AnyPool) -> Result<Vec<JobRun>, StoreError> {
    // One seek of the primary key per job: the jobs are few.
    let jobs: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT job FROM job_runs ORDER BY job").fetch_all(pool).await?;
    let mut out = Vec::with_capacity(jobs.len());
    for (job,) in jobs {
        let row = sqlx::query(
            "SELECT job, period, token, node, started_at FROM job_runs WHERE job = $1 ORDER BY period DESC LIMIT 1",
        )
        .bind(&job)
        .fetch_one(pool)
        .await?;
        out.push(run(&row)?);
    }
    Ok(out)
}

/// Runs of `job` from `period` on, oldest first (at most `limit`).
pub(crate) async fn runs_of(pool: &AnyPool, job: &str, from: i64, limit: u32) -> Result<Vec<JobRun>, StoreError> {
    let rows = sqlx::query(
        "SELECT job, period, token, node, started_at FROM job_runs WHERE job = $1 AND period >= $2 \
         ORDER BY period LIMIT $3",
    )
    .bind(job)
    .bind(from)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(run).collect()
}

pub(crate) async fn heartbeat(w: &mut WriteTx, node: &NodeInfo) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO nodes (id, address, version, started_at, last_seen, jobs, models) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET address = excluded.address, version = excluded.version, \
         last_seen = excluded.last_seen, jobs = excluded.jobs, models = excluded.models",
    )
    .bind(&node.id)
    .bind(&node.address)
    .bind(&node.version)
    .bind(node.started_at)
    .bind(w.now)
    .bind(node.jobs.join(","))
    .bind(node.models.join(","))
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}

/// A comma-separated column as its items.
fn list(column: String) -> Vec<String> {
    column.split(',').filter(|j| !j.is_empty()).map(str::to_string).collect()
}

/// Nodes seen at or after `since`, by id.
pub(crate) async fn nodes(pool: &AnyPool, since: i64) -> Result<Vec<NodeInfo>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, address, version, started_at, last_seen, jobs, models FROM nodes WHERE last_seen >= $1 \
         ORDER BY id LIMIT 1000",
    )
    .bind(since)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(NodeInfo {
                id: r.try_get("id")?,
                address: r.try_get("address")?,
                version: r.try_get("version")?,
                started_at: r.try_get("started_at")?,
                last_seen: r.try_get("last_seen")?,
                jobs: list(r.try_get("jobs")?),
                models: list(r.try_get("models")?),
            })
        })
        .collect()
}
