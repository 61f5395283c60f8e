//! What a node knows of the cluster, for `GET /v1/cluster`: the nodes that
//! sent a heartbeat lately (kept in the store, so any node can list them),
//! who holds each leader-only job's lease and with which fencing token, and
//! each job's last run (from the store's run records) and next one.

use std::time::Duration;

use serde::Serialize;
use wantloop_core::time::now_ms;
use wantloop_store::{JobRun, NodeInfo};

use crate::{Engine, EngineError};

/// How often a node records its heartbeat.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// A node whose last heartbeat is older than this is not listed.
pub const LIVE_WITHIN: Duration = Duration::from_secs(10);
/// A node whose last heartbeat is older than this (three missed) owns no
/// leader-only job: the others may take its leases once they expire.
pub const OWNS_WITHIN: Duration = Duration::from_secs(6);

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClusterStatus {
    /// The node that answered.
    pub node: String,
    /// Nodes with a heartbeat in the last ten seconds, by id.
    pub nodes: Vec<NodeInfo>,
    pub jobs: Vec<LeaderJob>,
}

/// A leader-only job as the cluster runs it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeaderJob {
    pub job: String,
    pub every_ms: i64,
    /// The node holding the job's lease now, if any.
    pub holder: Option<String>,
    /// The live node that should hold it (rendezvous hashing over the live
    /// nodes); another node holds it only while this one is new or gone.
    pub owner: Option<String>,
    /// Its fencing token.
    pub token: Option<u64>,
    /// `None` before the first run, and always for the outbox relay, which
    /// runs for as long as it holds its lease rather than once per period.
    pub last_run: Option<JobRun>,
    /// When the next period starts (ms since the epoch).
    pub next_run_at: i64,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

impl Engine {
    /// The leader-only jobs this node's configuration runs, with their periods.
    pub(crate) fn leader_jobs(&self) -> Vec<(&'static str, Duration)> {
        let jobs = &self.config.jobs;
        let mut out = vec![("expiry", jobs.expiry_interval), ("retention", jobs.retention.every)];
        if jobs.retrain_scheduler {
            out.push(("retrain", self.config.retrain.check_every));
        }
        if let Some(every) = jobs.allocate_every {
            out.push((crate::jobs::ALLOCATE_JOB, every));
        }
        if self.seams.bus.durable() {
            out.push((crate::relay::JOB, crate::relay::EVERY));
        }
        out
    }

    pub async fn cluster(&self) -> Result<ClusterStatus, EngineError> {
        let now = now_ms();
        let nodes = self.store.nodes(now - millis(LIVE_WITHIN)).await?;
        let runs = self.store.latest_runs().await?;
        let owning: Vec<NodeInfo> =
            nodes.iter().filter(|n| n.last_seen >= now - millis(OWNS_WITHIN)).cloned().collect();
        let mut jobs = Vec::new();
        for (job, every) in self.leader_jobs() {
            let held = self
                .seams
                .lease
                .holder(&format!("wantloop.job.{job}"))
                .await
                .map_err(|e| EngineError::Seam(e.to_string()))?;
            let every_ms = millis(every);
            jobs.push(LeaderJob {
                job: job.to_string(),
                every_ms,
                holder: held.as_ref().map(|(h, _)| h.clone()),
                owner: crate::ring::owner_among(&owning, job).map(str::to_string),
                token: held.map(|(_, g)| g.token),
                last_run: runs.iter().find(|r| r.job == job).cloned(),
                next_run_at: (now / every_ms + 1) * every_ms,
            });
        }
        Ok(ClusterStatus { node: self.node_id.to_string(), nodes, jobs })
    }

    /// Records this node's heartbeat: its id, address and version.
    pub(crate) async fn heartbeat(&self, started_at: i64) {
        let node = NodeInfo {
            id: self.node_id.to_string(),
            address: self.address.get().cloned().unwrap_or_default(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_at,
            last_seen: 0,
            jobs: self.leader_jobs().into_iter().map(|(job, _)| job.to_string()).collect(),
        };
        if let Err(e) = self.store.heartbeat(&node).await {
            tracing::warn!(error = %e, "cannot record this node's heartbeat");
        }
    }

    /// Where this node serves, for the cluster listing (set once, by the server).
    pub fn announce_address(&self, address: String) {
        let _ = self.address.set(address);
    }
}

/// Records a heartbeat every [`HEARTBEAT_EVERY`].
pub(crate) async fn heartbeats(engine: Engine) {
    let started_at = now_ms();
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    loop {
        tick.tick().await;
        engine.heartbeat(started_at).await;
        match engine.store.nodes(now_ms() - millis(OWNS_WITHIN)).await {
            Ok(nodes) => *engine.live_nodes.write().unwrap_or_else(std::sync::PoisonError::into_inner) = nodes,
            Err(e) => tracing::warn!(error = %e, "cannot read the live nodes"),
        }
    }
}
