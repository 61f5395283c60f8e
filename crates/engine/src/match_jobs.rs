//! Matching as queued work: a job record in the store (so any node answers
//! `GET /v1/jobs/{id}`) and an item on the work-queue seam (so whichever node
//! takes it does the matching). A delivery may repeat (a node died before
//! acknowledging), so the proposal is written under the job's own
//! idempotency key: the key's row is stored in the same transaction as the
//! proposal, and a repeat finds it and answers with the stored proposal
//! instead of proposing again.

use serde::{Deserialize, Serialize};
use wantloop_store::{IdemKey, Job, Outcome, Proposal, StoreError};

use crate::seams::SeamError;
use crate::{Engine, EngineError};

/// The queue and job kind of a match.
pub const MATCH_KIND: &str = "match";

/// One queued match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchWork {
    pub job: i64,
    pub demand: i64,
}

impl Engine {
    /// Records a match job for `demand_id` (or finds the one an earlier
    /// request with `idem` recorded). Queue it with [`Engine::queue_match`].
    pub async fn create_match_job(&self, demand_id: i64, idem: Option<&IdemKey>) -> Result<Outcome<Job>, EngineError> {
        // A demand that does not exist is refused before any job exists.
        self.store.get_demand(demand_id).await?;
        Ok(self.store.create_job(MATCH_KIND, idem).await?)
    }

    /// Puts a recorded match job on the work queue.
    pub async fn queue_match(&self, work: MatchWork) -> Result<(), SeamError> {
        let item =
            serde_json::to_vec(&work).map_err(|e| SeamError::Unavailable { seam: "queue", reason: e.to_string() })?;
        self.seams.queue.push(MATCH_KIND, item).await
    }

    /// Does a queued match: its effect takes place once however often it is
    /// delivered. `Outcome::Replayed` when an earlier delivery proposed.
    pub async fn run_match(&self, work: MatchWork) -> Result<Outcome<Proposal>, StoreError> {
        let key = IdemKey { key: format!("job:{}", work.job), fingerprint: MATCH_KIND.into(), status: 200 };
        self.match_demand(work.demand, Some(&key)).await
    }
}
