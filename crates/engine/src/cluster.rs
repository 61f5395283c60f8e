//! What a node knows of the cluster, for `GET /v1/cluster`: the nodes that
//! sent a heartbeat lately (kept in the store, so any node can list them),
//! who holds each leader-only job's lease and with which fencing token, and
//! each job's last run (from the store's run records) and next one.

use std::collections::BTreeSet;
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
    /// Whether every listed node serves with the same pretrained models.
    /// When not, English FAQ matching and image search depend on which node
    /// takes a request: install the missing ones (`wantloop models install`)
    /// or start every node with `--require-models`.
    pub models_agree: bool,
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
        let models_agree = models_agree(&nodes);
        Ok(ClusterStatus { node: self.node_id.to_string(), nodes, models_agree, jobs })
    }

    /// The pretrained models this node serves with, as the cluster lists them.
    pub fn pretrained_models(&self) -> Vec<String> {
        let mut models = Vec::new();
        if self.sentences.is_some() {
            models.push(format!("text:{}", wantloop_ml::sentence::NAME));
        }
        if self.config.images.model.is_some() {
            models.push(format!("image:{}", wantloop_image::learned::NAME));
        }
        models
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
            models: self.pretrained_models(),
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
    let mut warned_of = None;
    loop {
        tick.tick().await;
        engine.heartbeat(started_at).await;
        match engine.store.nodes(now_ms() - millis(OWNS_WITHIN)).await {
            Ok(nodes) => {
                warn_when_models_differ(&nodes, &mut warned_of);
                *engine.live_nodes.write().unwrap_or_else(std::sync::PoisonError::into_inner) = nodes;
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the live nodes"),
        }
    }
}

/// Whether every node lists the same pretrained models.
pub fn models_agree(nodes: &[NodeInfo]) -> bool {
    nodes.windows(2).all(|w| sorted_models(&w[0]) == sorted_models(&w[1]))
}

fn sorted_models(n: &NodeInfo) -> Vec<String> {
    let mut m = n.models.clone();
    m.sort_unstable();
    m
}

/// Logs the nodes' models when a disagreement starts or the set of model
/// lists changes, not on every heartbeat, nor when only the nodes do (a
/// restart gives a node a new id).
fn warn_when_models_differ(nodes: &[NodeInfo], warned_of: &mut Option<BTreeSet<Vec<String>>>) {
    if models_agree(nodes) {
        *warned_of = None;
        return;
    }
    let lists: BTreeSet<Vec<String>> = nodes.iter().map(sorted_models).collect();
    if warned_of.as_ref() != Some(&lists) {
        let listing: Vec<String> = nodes.iter().map(|n| format!("{}: [{}]", n.id, n.models.join(", "))).collect();
        tracing::warn!(
            nodes = %listing.join("; "),
            "the nodes serve with different pretrained models, so answers depend on the node: install the same ones on every node"
        );
        *warned_of = Some(lists);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, models: &[&str]) -> NodeInfo {
        NodeInfo {
            id: id.into(),
            address: String::new(),
            version: String::new(),
            started_at: 0,
            last_seen: 0,
            jobs: Vec::new(),
            models: models.iter().map(|m| m.to_string()).collect(),
        }
    }

    #[test]
    fn nodes_agree_on_the_same_models_in_any_order_and_a_change_is_logged_once() {
        let both = ["text:all-minilm-l6-v2", "image:efficientnet-lite0"];
        let same = [node("a", &both), node("b", &[both[1], both[0]])];
        assert!(models_agree(&same) && models_agree(&same[..1]) && models_agree(&[]));
        let differ = [node("a", &both), node("b", &both[1..])];
        assert!(!models_agree(&differ));
        assert!(!models_agree(&[node("a", &[]), node("b", &both[..1])]));

        let mut warned = None;
        warn_when_models_differ(&differ, &mut warned);
        let first = warned.clone().expect("a disagreement is remembered once logged");
        warn_when_models_differ(&differ, &mut warned);
        assert_eq!(warned.as_ref(), Some(&first));
        let restarted = [node("c", &both), node("b", &both[1..])];
        warn_when_models_differ(&restarted, &mut warned);
        assert_eq!(warned.as_ref(), Some(&first), "a node's new id alone is not a new disagreement");
        let third = [node("a", &both), node("b", &both[1..]), node("d", &[])];
        warn_when_models_differ(&third, &mut warned);
        assert_ne!(warned.as_ref(), Some(&first), "another model list is");
        warn_when_models_differ(&same, &mut warned);
        assert!(warned.is_none(), "agreement again clears it, so a new disagreement is logged");
    }
}
