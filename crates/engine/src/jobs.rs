//! The background jobs of a serving engine. Per node: the indexer (follows the
//! outbox) and the model watcher (follows the registry, woken early by the
//! bus). Leader-only, each under its own lease so that one node runs it at a
//! time: the expiry sweep and the retraining scheduler.

use std::time::Duration;

use tokio::task::JoinHandle;
use wantloop_core::time::now_ms;

use crate::engine::MODELS_SUBJECT;
use crate::{Engine, indexer, retrain};

/// Running jobs; dropping the value stops them.
pub struct Jobs {
    handles: Vec<JoinHandle<()>>,
}

impl Drop for Jobs {
    fn drop(&mut self) {
        self.handles.iter().for_each(JoinHandle::abort);
    }
}

impl Engine {
    /// Starts this node's background jobs as configured.
    pub fn start_jobs(&self) -> Jobs {
        let jobs = &self.config.jobs;
        let mut handles = vec![
            tokio::spawn(expiry_sweeper(self.clone(), jobs.expiry_interval)),
            tokio::spawn(model_watcher(self.clone(), jobs.model_poll_interval)),
            tokio::spawn(indexer::run(
                self.store.clone(),
                self.search.clone(),
                jobs.index_interval,
                self.consumer_name(),
            )),
            tokio::spawn(retention_sweeper(self.clone())),
        ];
        if jobs.retrain_scheduler {
            handles.push(tokio::spawn(retrain::scheduler(self.clone())));
        }
        Jobs { handles }
    }

    /// Whether this node holds (or has just taken) the lease of a leader-only
    /// job; a job whose period is `every` holds its lease for three periods.
    pub(crate) async fn lead(&self, job: &str, every: Duration) -> bool {
        match self.seams.lease.acquire(&format!("wantloop.job.{job}"), &self.node_id, every * 3).await {
            Ok(grant) => grant.is_some(),
            Err(e) => {
                tracing::warn!(job, error = %e, "cannot take the job's lease; skipping this run");
                false
            }
        }
    }
}

/// Keeps the served models in step with the registry's active ones: at every
/// tick, and at once when an activation is announced on the bus.
async fn model_watcher(engine: Engine, every: Duration) {
    let mut tick = tokio::time::interval(every);
    let mut announced = engine.seams.bus.subscribe(MODELS_SUBJECT);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            Some(_) = announced.next() => {}
        }
        if let Err(e) = engine.refresh_models().await {
            tracing::warn!(error = %e, "model refresh failed");
        }
    }
}

/// Deletes old events, idempotency keys, interactions and finished jobs as
/// configured (see `RetentionConfig`).
async fn retention_sweeper(engine: Engine) {
    let r = engine.config.jobs.retention.clone();
    let mut tick = tokio::time::interval(r.every);
    loop {
        tick.tick().await;
        if !engine.lead("retention", r.every).await {
            continue;
        }
        let ms = |d: Option<Duration>| d.map(|d| d.as_millis() as i64);
        let trained_through = match crate::retrain::latest(engine.store.as_ref(), crate::models::RECOMMENDER).await {
            Ok(m) => m.and_then(|m| m.params["interactions_up_to"].as_i64()),
            Err(e) => {
                tracing::warn!(error = %e, "retention: cannot read the recommender's position");
                continue;
            }
        };
        let policy = wantloop_store::RetentionPolicy {
            now: now_ms(),
            events: ms(r.events),
            idempotency_keys: ms(r.idempotency_keys),
            interactions: ms(r.interactions),
            interactions_trained_through: trained_through,
            finished_jobs: ms(r.finished_jobs),
            abandoned_jobs: ms(r.abandoned_jobs),
            consumer_ttl: r.consumer_ttl.as_millis() as i64,
        };
        match engine.store.prune(&policy).await {
            Ok(p) if p != wantloop_store::PruneReport::default() => tracing::info!(
                events = p.events,
                idempotency_keys = p.idempotency_keys,
                interactions = p.interactions,
                jobs = p.jobs,
                abandoned_jobs = p.abandoned_jobs,
                "retention pruned old rows"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
    }
}

/// Expires due proposals (returning their units) and due demands.
async fn expiry_sweeper(engine: Engine, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if !engine.lead("expiry", every).await {
            continue;
        }
        match engine.store.expire_due(now_ms()).await {
            Ok(s) if s.matches_expired + s.demands_expired > 0 => {
                tracing::info!(matches = s.matches_expired, demands = s.demands_expired, "expired due items");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "expiry sweep failed"),
        }
    }
}
