//! The background jobs of a serving engine. Per node: the indexer (follows the
//! outbox) and the model watcher (follows the registry, woken early by the
//! bus). Leader-only, each under its own lease so that one node runs it at a
//! time: the expiry sweep and the retraining scheduler.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use wantloop_core::time::now_ms;
use wantloop_store::{Fence, Store, StoreError};

use crate::engine::MODELS_SUBJECT;
use crate::seams::{next_or_never, subscribe_or_poll};
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
            tokio::spawn(follow_the_outbox(self.clone())),
            tokio::spawn(retention_sweeper(self.clone())),
            tokio::spawn(crate::cluster::heartbeats(self.clone())),
        ];
        if self.seams.bus.durable() {
            handles.push(tokio::spawn(crate::relay::run(self.clone())));
        }
        if jobs.retrain_scheduler {
            handles.push(tokio::spawn(retrain::scheduler(self.clone())));
        }
        Jobs { handles }
    }

    /// This node's turn at a leader-only job for the current period: the
    /// store to write through, fenced by this node's lease token, or `None`
    /// when another node holds the lease, this period already ran, or this
    /// node lost the lease (its token is fenced off). A job whose period is
    /// `every` holds its lease for three periods.
    pub async fn lead(&self, job: &str, every: Duration) -> Option<Arc<dyn Store>> {
        let store = self.take_lease(job, every * 3).await?;
        let period = now_ms() / i64::try_from(every.as_millis().max(1)).unwrap_or(i64::MAX);
        match store.claim_run(job, period, &self.node_id).await {
            Ok(true) => Some(store),
            Ok(false) => None,
            Err(StoreError::Fenced { token, highest, .. }) => {
                tracing::info!(job, token, highest, "this node lost the job's lease");
                None
            }
            Err(e) => {
                tracing::warn!(job, error = %e, "cannot record the job's run; skipping it");
                None
            }
        }
    }

    /// Takes (or renews) `job`'s lease for `ttl`: the store fenced by this
    /// node's token, or `None` while another node holds it.
    pub async fn take_lease(&self, job: &str, ttl: Duration) -> Option<Arc<dyn Store>> {
        let lease = format!("wantloop.job.{job}");
        // The store's highest token is the floor of a new grant, so a lease
        // service that lost its counter never grants a refused token.
        let floor = match self.store.fence_token(&lease).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(job, error = %e, "cannot read the job's fence; skipping this run");
                return None;
            }
        };
        match self.seams.lease.acquire(&lease, &self.node_id, ttl, floor).await {
            Ok(Some(grant)) => Some(self.store.fenced(Fence { lease, token: grant.token })),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(job, error = %e, "cannot take the job's lease; skipping this run");
                None
            }
        }
    }
}

/// Keeps the served models in step with the registry's active ones: at every
/// tick, and at once when an activation is announced on the bus.
async fn model_watcher(engine: Engine, every: Duration) {
    let mut tick = tokio::time::interval(every);
    let mut announced = subscribe_or_poll(engine.seams.bus.as_ref(), MODELS_SUBJECT).await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            Some(_) = next_or_never(&mut announced) => {}
        }
        if let Err(e) = engine.refresh_models().await {
            tracing::warn!(error = %e, "model refresh failed");
        }
    }
}

/// Keeps this node's index up to date: the indexer polls the outbox, and on
/// a durable bus every relayed event wakes it at once.
async fn follow_the_outbox(engine: Engine) {
    let bus = engine.seams.bus.as_ref();
    let wake = if bus.durable() { subscribe_or_poll(bus, "events.>").await } else { None };
    let interval = engine.config.jobs.index_interval;
    indexer::run(engine.store.clone(), engine.search.clone(), interval, engine.consumer_name(), wake).await;
}

/// Deletes old events, idempotency keys, interactions and finished jobs as
/// configured (see `RetentionConfig`).
async fn retention_sweeper(engine: Engine) {
    let r = engine.config.jobs.retention.clone();
    let mut tick = tokio::time::interval(r.every);
    loop {
        tick.tick().await;
        let Some(store) = engine.lead("retention", r.every).await else { continue };
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
        match store.prune(&policy).await {
            Ok(p) if p != wantloop_store::PruneReport::default() => tracing::info!(
                events = p.events,
                idempotency_keys = p.idempotency_keys,
                interactions = p.interactions,
                jobs = p.jobs,
                abandoned_jobs = p.abandoned_jobs,
                job_runs = p.job_runs,
                nodes = p.nodes,
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
        let Some(store) = engine.lead("expiry", every).await else { continue };
        match store.expire_due(now_ms()).await {
            Ok(s) if s.matches_expired + s.demands_expired > 0 => {
                tracing::info!(matches = s.matches_expired, demands = s.demands_expired, "expired due items");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "expiry sweep failed"),
        }
    }
}
