//! Matching as queued work over HTTP: `POST /v1/demands/{id}/match?async=true`
//! and `"auto_match": true` on a new demand record a match job and put it on
//! the engine's work queue; each node runs workers that take match jobs
//! (whichever node takes one does it), record how each ended, and only then
//! acknowledge it, so a job whose node died is delivered again and, its
//! effect being idempotent (`wantloop_engine::match_jobs`), takes effect once.

use std::time::Duration;

use tokio::task::JoinHandle;
use wantloop_engine::Engine;
use wantloop_engine::match_jobs::{MATCH_KIND, MatchWork};
use wantloop_store::{IdemKey, Job, Outcome, StoreError};

use crate::problem::ApiError;

/// Match workers per node: matching waits on the store more than it computes.
pub const WORKERS: usize = 4;
/// How long a worker's pull waits for an item before pulling again.
const PULL_WAIT: Duration = Duration::from_secs(5);

fn problem(e: ApiError) -> serde_json::Value {
    serde_json::to_value(e.to_problem().1).unwrap_or_default()
}

/// Records a match job for `demand_id` and queues it (or finds the job an
/// earlier request with `key` recorded); the job and whether it was found.
/// A job the queue refused ends at once as failed, with the reason.
pub async fn queue(engine: &Engine, demand_id: i64, key: Option<&IdemKey>) -> Result<(Job, bool), ApiError> {
    match engine.create_match_job(demand_id, key).await? {
        Outcome::Done(job) => {
            if let Err(e) = engine.queue_match(MatchWork { job: job.id, demand: demand_id }).await {
                let failed = problem(ApiError::Engine(wantloop_engine::EngineError::Seam(e.to_string())));
                return Ok((engine.store().finish_job(job.id, Err(&failed)).await?, false));
            }
            Ok((job, false))
        }
        Outcome::Replayed(stored) => {
            let first: Job = serde_json::from_str(&stored.body).map_err(|_| ApiError::Internal)?;
            Ok((engine.store().get_job(first.id).await?, true))
        }
    }
}

/// Starts this node's match workers; abort the handles to stop them.
pub fn start_workers(engine: &Engine) -> Vec<JoinHandle<()>> {
    (0..WORKERS).map(|_| tokio::spawn(worker(engine.clone()))).collect()
}

/// Whether retrying the same work later may succeed.
fn transient(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(_) | StoreError::Commit(_))
}

async fn worker(engine: Engine) {
    loop {
        let delivery = match engine.seams().queue.pull(MATCH_KIND, PULL_WAIT).await {
            Ok(Some(d)) => d,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "cannot take match work; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let Ok(work) = serde_json::from_slice::<MatchWork>(delivery.item()) else {
            tracing::warn!("undecodable match work dropped");
            let _ = delivery.ack().await;
            continue;
        };
        // The match acts for whoever queued it (the job records their key).
        let actor = engine.store().get_job(work.job).await.ok().and_then(|j| j.actor_key);
        let outcome = match wantloop_store::actor::acting_as(actor, engine.run_match(work)).await {
            Ok(Outcome::Done(p)) => serde_json::to_value(&p).map_err(|_| problem(ApiError::Internal)),
            Ok(Outcome::Replayed(stored)) => {
                serde_json::from_str(&stored.body).map_err(|_| problem(ApiError::Internal))
            }
            Err(e) if transient(&e) => {
                tracing::warn!(job = work.job, error = %e, "match job failed for now; handing it back");
                tokio::time::sleep(Duration::from_secs(1)).await;
                let _ = delivery.retry().await;
                continue;
            }
            Err(e) => Err(problem(ApiError::Store(e))),
        };
        match engine.store().finish_job(work.job, outcome.as_ref()).await {
            // Finished by an earlier delivery of the same job: nothing to record.
            Ok(_) | Err(StoreError::IllegalTransition { .. }) => {
                if let Err(e) = delivery.ack().await {
                    tracing::warn!(job = work.job, error = %e, "cannot acknowledge a finished match job");
                }
            }
            Err(e) => {
                tracing::warn!(job = work.job, error = %e, "cannot record a match job's end; handing it back");
                let _ = delivery.retry().await;
            }
        }
    }
}
