//! The background jobs of a serving engine. Per node: the indexer (follows the
//! outbox) and the model watcher (follows the registry, woken early by the
//! bus). Leader-only, each under its own lease so that one node runs it at a
//! time: the expiry sweep, retention, the retraining scheduler and scheduled
//! batch allocation (the outbox relay lives in `relay.rs`).

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use wantloop_core::time::now_ms;
use wantloop_store::{Fence, Store, StoreError};

use crate::engine::MODELS_SUBJECT;
use crate::seams::{next_or_never, subscribe_or_poll};
use crate::{Engine, EngineError, indexer, retrain};

/// The scheduled batch allocation's job (and lease) name.
pub(crate) const ALLOCATE_JOB: &str = "allocate";

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
            tokio::spawn(crate::signals::refresher(self.clone())),
        ];
        if self.seams.bus.durable() {
            handles.push(tokio::spawn(crate::relay::run(self.clone())));
        }
        if jobs.retrain_scheduler {
            handles.push(tokio::spawn(retrain::scheduler(self.clone())));
        }
        if let Some(every) = jobs.allocate_every {
            handles.push(tokio::spawn(allocation_scheduler(self.clone(), every)));
        }
        Jobs { handles }
    }

    /// This node's turn at a leader-only job for the current period: the
    /// store to write through, fenced by this node's lease token, or `None`
    /// when another node holds the lease, this period already ran, or this
    /// node lost the lease (its token is fenced off). A job whose period is
    /// `every` holds its lease for three periods, at most [`LEASE_CAP`]: a
    /// dead holder of an hourly job's lease keeps it from the others for
    /// 30 s, not three hours. The turn renews the lease (every third of it)
    /// for as long as it is held, so a run longer than its lease (a batch
    /// allocation of a large market) keeps it; a paused process renews
    /// nothing.
    pub async fn lead(&self, job: &str, every: Duration) -> Option<LeaderTurn> {
        let ttl = (every * 3).min(LEASE_CAP);
        let store = self.take_lease(job, ttl).await?;
        let period = now_ms() / i64::try_from(every.as_millis().max(1)).unwrap_or(i64::MAX);
        match store.claim_run(job, period, &self.node_id).await {
            Ok(true) => {
                let renewal = tokio::spawn(renew(self.clone(), job.to_string(), ttl));
                Some(LeaderTurn { store, renewal })
            }
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
        if !self.owns(job) {
            // Hand the job to its owner (a node that joined): give the lease
            // up if this node has it, so the owner takes it at its next tick.
            if let Err(e) = self.seams.lease.release(&lease, &self.node_id).await {
                tracing::warn!(job, error = %e, "cannot release the job's lease");
            }
            return None;
        }
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

/// The longest a leader-only job's lease lasts without renewal.
pub const LEASE_CAP: Duration = Duration::from_secs(30);

/// A node's turn at a leader-only job: the store fenced by its lease token
/// (what the turn derefs to), and the lease kept alive until it is dropped.
pub struct LeaderTurn {
    store: Arc<dyn Store>,
    renewal: JoinHandle<()>,
}

impl std::ops::Deref for LeaderTurn {
    type Target = Arc<dyn Store>;
    fn deref(&self) -> &Self::Target {
        &self.store
    }
}

impl Drop for LeaderTurn {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

/// Renews `job`'s lease every third of its `ttl` while this node still holds
/// it. A paused process renews nothing, so its lease lapses as it should.
async fn renew(engine: Engine, job: String, ttl: Duration) {
    let lease = format!("wantloop.job.{job}");
    let mut tick = tokio::time::interval(ttl / 3);
    tick.tick().await;
    loop {
        tick.tick().await;
        match engine.seams.lease.holder(&lease).await {
            Ok(Some((holder, _))) if holder == *engine.node_id => {}
            // Lost (expired, or taken): the fence refuses what is left of the run.
            _ => return,
        }
        if let Err(e) = engine.seams.lease.acquire(&lease, &engine.node_id, ttl, 0).await {
            tracing::warn!(job, error = %e, "cannot renew the job's lease");
        }
    }
}

impl Engine {
    /// Whether this node should run `job`: leader-only jobs are spread over
    /// the live nodes by rendezvous hashing (`ring.rs`), so that one node
    /// does not carry them all and a node joining or leaving moves only its
    /// share. Only nodes that run the job (per their heartbeats) can own it.
    /// A node that does not know the live nodes yet, or is not among
    /// them (its heartbeats fail), competes for every lease as before; the
    /// lease decides either way, so two views of the ring never run a job twice.
    fn owns(&self, job: &str) -> bool {
        let live = self.live_nodes.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !live.iter().any(|n| *n.id == *self.node_id) {
            return true;
        }
        // Among the nodes that run the job (their heartbeats say which); if
        // none seems to, this node competes rather than leave the job undone.
        match crate::ring::owner_among(&live, job) {
            Some(owner) => owner == &*self.node_id,
            None => true,
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
            open_questions: ms(r.open_questions),
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
                open_questions = p.open_questions,
                "retention pruned old rows"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
    }
}

/// Batch allocation over the whole market once a period (`--allocate-every`),
/// on the lease holder only, its proposals written through the fenced store.
async fn allocation_scheduler(engine: Engine, every: Duration) {
    let mode = engine.config.jobs.allocate_mode;
    let mut tick = tokio::time::interval(every);
    // A run that outlasts its period is not followed by a burst of catch-up runs.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(store) = engine.lead(ALLOCATE_JOB, every).await else { continue };
        match engine.allocate_through(store.as_ref(), mode, false).await {
            Ok(r) => tracing::info!(
                demands = r.demands,
                offers = r.offers,
                proposed_matches = r.proposed_matches,
                proposed_units = r.proposed_units,
                skipped = r.skipped,
                seconds = r.total_seconds,
                "scheduled allocation"
            ),
            Err(EngineError::Store(StoreError::Fenced { token, highest, .. })) => {
                tracing::info!(token, highest, "scheduled allocation stopped: this node lost the lease");
            }
            Err(e) => tracing::warn!(error = %e, "scheduled allocation failed"),
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
