//! Outbox events: one row per state change, written in the same transaction as
//! the change, read by cursor (`id`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// Monotonic cursor: events are read in `id` order.
    pub id: i64,
    /// `demand.created`, `match.accepted`, `offer.relisted`, …
    pub kind: String,
    /// `demand`, `offer` or `match`.
    pub entity: String,
    pub entity_id: i64,
    /// The entity after the change (and related entities where the change touched them).
    pub payload: serde_json::Value,
    pub created_at: i64,
    /// The API key whose request made the change; none for the server's own
    /// jobs, the CLI and requests served without keys (`serve --open`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_key: Option<i64>,
}
