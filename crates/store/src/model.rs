//! Parameter and result types of the [`crate::Store`] operations.

use serde::{Deserialize, Serialize};
use wantloop_core::{DemandStatus, FeatureScores, Match, MatchStatus, OfferStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How a demand got its category at intake.
#[derive(Debug, Clone)]
pub struct Classification {
    pub category: String,
    pub source: wantloop_core::demand::CategorySource,
    pub confidence: f64,
    /// Which model classified (`classifier v3`, `rules`); `None` when given.
    pub model: Option<String>,
    /// Send the demand to the review queue.
    pub needs_review: bool,
}

impl Classification {
    /// A category the requester gave.
    pub fn given(category: &str) -> Self {
        Self {
            category: category.to_string(),
            source: wantloop_core::demand::CategorySource::Given,
            confidence: 1.0,
            model: None,
            needs_review: false,
        }
    }
}

/// An idempotency key with the fingerprint of the request it came with and the
/// status the request answers with on success.
#[derive(Debug, Clone)]
pub struct IdemKey {
    pub key: String,
    pub fingerprint: String,
    pub status: u16,
}

/// The response stored for an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// Result of an idempotent write: done now, or replayed from an earlier request
/// with the same key.
#[derive(Debug, Clone)]
pub enum Outcome<T> {
    Done(T),
    Replayed(StoredResponse),
}

impl<T> Outcome<T> {
    /// The fresh value; `None` for a replay.
    pub fn done(self) -> Option<T> {
        match self {
            Self::Done(v) => Some(v),
            Self::Replayed(_) => None,
        }
    }
}

/// Keyset pagination: rows with `id > after`, at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub after: i64,
    pub limit: u32,
}

impl Page {
    pub const MAX_LIMIT: u32 = 1_000;

    pub fn first(limit: u32) -> Self {
        Self { after: 0, limit: limit.clamp(1, Self::MAX_LIMIT) }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DemandFilter {
    pub status: Option<DemandStatus>,
    pub category: Option<String>,
    pub requester: Option<String>,
    pub needs_review: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct OfferFilter {
    pub status: Option<OfferStatus>,
    pub category: Option<String>,
    pub provider: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MatchFilter {
    pub status: Option<MatchStatus>,
    pub demand_id: Option<i64>,
    pub offer_id: Option<i64>,
    /// Only matches this party is in, as requester or as provider.
    pub party: Option<String>,
}

/// One match to propose.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMatch {
    pub offer_id: i64,
    pub units: i64,
    pub score: f64,
    pub features: FeatureScores,
    /// Milliseconds after which a still-proposed match expires.
    pub ttl_ms: Option<i64>,
}

/// What a proposal transaction did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Proposal {
    pub demand_id: i64,
    pub matches: Vec<Match>,
    /// Proposals refused because the units were gone by the time they were reserved.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Skipped {
    pub offer_id: i64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExpirySummary {
    pub matches_expired: u64,
    pub demands_expired: u64,
}

/// What the market's outcomes and interactions say about providers and
/// offers, for the matcher's learned features (`Store::market_counts`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MarketCounts {
    /// Per provider and match status: how many of the provider's matches.
    pub provider_matches: Vec<(String, String, i64)>,
    /// Per offer: interactions, ratings, and the sum of the ratings.
    pub offer_interactions: Vec<OfferInteractions>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OfferInteractions {
    pub offer_id: i64,
    pub interactions: i64,
    pub ratings: i64,
    pub rating_sum: f64,
}

/// Counts by state, for the demo summary, `/v1/stats` and dashboards.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    pub demands: std::collections::BTreeMap<String, i64>,
    pub offers: std::collections::BTreeMap<String, i64>,
    pub matches: std::collections::BTreeMap<String, i64>,
    /// Units per match status.
    pub match_units: std::collections::BTreeMap<String, i64>,
    /// Offers created by relisting a fulfilled item.
    pub relisted_offers: i64,
    pub events: i64,
}

/// Readings for an operator's metrics, cheap enough for every scrape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Gauges {
    /// Each outbox consumer's position (the last event it has taken in).
    pub consumers: Vec<(String, i64)>,
    /// Demands waiting in the review queue.
    pub review_queue: i64,
    /// The connection pool: open connections, of which idle.
    pub pool_size: u32,
    pub pool_idle: u32,
}

/// A model to put in the registry.
#[derive(Debug, Clone)]
pub struct NewModel {
    /// `classifier`, `recommender`, `ranker`, …
    pub kind: String,
    /// Fingerprint of the training data.
    pub data_hash: String,
    pub metrics: serde_json::Value,
    pub params: serde_json::Value,
    pub blob: Vec<u8>,
}

/// A registered model (without its bytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelInfo {
    pub id: i64,
    pub kind: String,
    /// 1, 2, 3, … per kind.
    pub version: i64,
    pub created_at: i64,
    pub data_hash: String,
    /// Evaluation metrics measured when it was trained.
    pub metrics: serde_json::Value,
    /// Hyper-parameters and training details.
    pub params: serde_json::Value,
    /// Whether this is the kind's model in use.
    pub active: bool,
    pub bytes: i64,
    /// When it was last made active (ms), if ever.
    #[serde(default)]
    pub activated_at: Option<i64>,
    /// Who last made it active: `operator` or `retrain`.
    #[serde(default)]
    pub activated_by: Option<String>,
}

impl ModelInfo {
    /// How the model is named on the things it produced: `classifier v3`.
    pub fn tag(&self) -> String {
        format!("{} v{}", self.kind, self.version)
    }
}

/// Who makes a model active, and on what condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Activation {
    /// `operator` (an explicit choice) or `retrain` (the scheduler).
    pub by: &'static str,
    /// Activate only if this is still the kind's active model (`None`: none
    /// is), so a retrain that started before an operator's rollback cannot
    /// overwrite it. `Unconditional` for an operator's choice.
    pub expected: Expected,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expected {
    Unconditional,
    Active(Option<i64>),
}

impl Activation {
    pub const OPERATOR: Self = Self { by: "operator", expected: Expected::Unconditional };

    pub fn by_retrain(expected_active: Option<i64>) -> Self {
        Self { by: "retrain", expected: Expected::Active(expected_active) }
    }
}

/// A labelled example to keep for training (a model's base data).
#[derive(Debug, Clone, PartialEq)]
pub struct NewLabel {
    pub text: String,
    pub label: String,
    /// Where it comes from, e.g. `base:demo` or `base:FILE`.
    pub source: String,
}

/// How many versions of each model kind to keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelRetention {
    /// The newest versions kept (besides the active one and the one active before it).
    pub keep_newest: u32,
}

/// A labelled example recorded by an operator (or another trusted source).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Label {
    pub id: i64,
    pub text: String,
    pub label: String,
    pub source: String,
    pub demand_id: Option<i64>,
    pub created_at: i64,
}

/// Long work started through the API (batch allocation, retraining).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    pub id: i64,
    /// `allocate`, `retrain.classifier` or `retrain.recommender`.
    pub kind: String,
    pub status: JobStatus,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// What the work returned, when it succeeded.
    pub result: Option<serde_json::Value>,
    /// The problem it failed with (an RFC 9457 body), when it failed.
    pub error: Option<serde_json::Value>,
    /// The API key that started it (none: the scheduler, or a server without keys).
    pub actor_key: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Running, Self::Succeeded, Self::Failed].into_iter().find(|s| s.as_str() == raw)
    }
}

/// What retention deletes, by age in ms (`None`: kept forever).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RetentionPolicy {
    pub now: i64,
    pub events: Option<i64>,
    pub idempotency_keys: Option<i64>,
    pub interactions: Option<i64>,
    /// Interactions are kept through this id regardless (the newest one the
    /// latest recommender trained on; `None`: no recommender, keep all).
    pub interactions_trained_through: Option<i64>,
    pub finished_jobs: Option<i64>,
    /// A job still `running` this long after it started is marked failed
    /// (its node died, or it hangs): a poller gets an answer.
    pub abandoned_jobs: Option<i64>,
    /// Questions the assistant kept that no operator answered (answered ones
    /// are training pairs and stay).
    pub open_questions: Option<i64>,
    /// A consumer not seen for this long no longer holds events back (it must
    /// rebuild when it returns).
    pub consumer_ttl: i64,
}

/// How many rows retention deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PruneReport {
    pub events: u64,
    pub idempotency_keys: u64,
    pub interactions: u64,
    pub jobs: u64,
    pub abandoned_jobs: u64,
    /// Recorded runs of leader-only jobs.
    pub job_runs: u64,
    /// Nodes not seen for longer than `consumer_ttl`.
    pub nodes: u64,
    /// Kept questions no operator answered.
    pub open_questions: u64,
}

/// A lease and the fencing token its holder was granted. A store made
/// [`Store::fenced`](crate::Store::fenced) with it checks, in every write
/// transaction, that no higher token of the lease was seen, and records this
/// one: a holder that lost its lease has its late writes refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub lease: String,
    pub token: u64,
}

/// One recorded run of a leader-only job: a period runs once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobRun {
    pub job: String,
    /// The job's period index (run time / period length).
    pub period: i64,
    /// The fencing token it ran under (0: not fenced).
    pub token: i64,
    pub node: String,
    pub started_at: i64,
}

/// A serving node as its heartbeats describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeInfo {
    pub id: String,
    /// Where the node listens, as it was started.
    pub address: String,
    pub version: String,
    pub started_at: i64,
    pub last_seen: i64,
    /// The leader-only jobs this node runs (it competes for their leases).
    #[serde(default)]
    pub jobs: Vec<String>,
    /// The pretrained models it serves with (`text:all-minilm-l6-v2`,
    /// `image:efficientnet-lite0`); a node without one answers differently.
    #[serde(default)]
    pub models: Vec<String>,
}

/// What an image belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImageOwner {
    Offer,
    Demand,
}

impl ImageOwner {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offer => "offer",
            Self::Demand => "demand",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "offer" => Some(Self::Offer),
            "demand" => Some(Self::Demand),
            _ => None,
        }
    }

    pub(crate) fn from_row(s: &str) -> Result<Self, crate::StoreError> {
        Self::parse(s).ok_or_else(|| crate::StoreError::Corrupt(format!("image owner {s:?}")))
    }
}

/// An image to store: checked and measured by the caller (the engine).
#[derive(Debug, Clone)]
pub struct NewImage {
    pub owner: ImageOwner,
    pub owner_id: i64,
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
    /// What made `vector` (the extractor's description), so vectors of
    /// different extractors are never compared.
    pub features: String,
    pub vector: Vec<f32>,
    pub original: Vec<u8>,
    /// A JPEG at most 256 pixels a side.
    pub thumbnail: Vec<u8>,
}

/// A version of the operators' synonym list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SynonymList {
    /// 1, 2, … in the order they were saved; the newest is in force.
    pub version: i64,
    /// The list in the synonyms-file format (`a, b, c` or `a => b` a line).
    pub rules: String,
    /// Who saved it (the API key's name), when known.
    pub author: Option<String>,
    pub created_at: i64,
}

/// A stored image (without its bytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageInfo {
    pub id: i64,
    pub owner: ImageOwner,
    pub owner_id: i64,
    /// 1, 2, … among the owner's images (`…/images/{position}`).
    pub position: i64,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    /// Bytes of the original.
    pub size: i64,
    pub sha256: String,
    pub features: String,
    pub created_at: i64,
}

/// An image with its visual vector, for the visual index.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageVector {
    pub info: ImageInfo,
    pub vector: Vec<f32>,
}

/// An FAQ entry in one language: several phrasings of a question, one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FaqEntry {
    pub id: i64,
    /// Names the entry across languages and imports.
    pub key: String,
    /// `zh` or `en`.
    pub lang: String,
    pub questions: Vec<String>,
    pub answer: String,
    pub updated_at: i64,
}

/// An FAQ entry to store (checked by the engine); replaces the entry with the same key and language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewFaqEntry {
    pub key: String,
    pub lang: String,
    pub questions: Vec<String>,
    pub answer: String,
}

/// When an operator's answer also teaches the FAQ: the question becomes a
/// phrasing of the chosen entry if it is in the entry's language, at most
/// `max_chars` long, new to it, and the entry holds fewer than `max_phrasings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhrasingRule {
    pub max_phrasings: usize,
    pub max_chars: usize,
}

/// An operator's answer as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResolvedQuestion {
    #[serde(flatten)]
    pub question: AskedQuestion,
    /// The question was added to the chosen entry's phrasings.
    pub phrasing_added: bool,
}

/// A question the assistant refused or was unsure of, kept for the operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AskedQuestion {
    pub id: i64,
    pub question: String,
    pub lang: String,
    /// `refused` or `low_confidence`.
    pub outcome: String,
    pub confidence: f64,
    /// The entry the assistant found closest, if any.
    pub best_entry: Option<i64>,
    /// The operator's answer: the entry that answers it; `null` with
    /// `resolved_at` set when the operator said none does.
    pub chosen_entry: Option<i64>,
    pub resolved_at: Option<i64>,
    pub created_at: i64,
}

/// A question to keep for the operator.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAskedQuestion {
    pub question: String,
    pub lang: String,
    pub outcome: String,
    pub confidence: f64,
    pub best_entry: Option<i64>,
}

/// A fact of the assistant's knowledge graph: `subject —relation→ object`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Triple {
    pub subject: String,
    pub relation: String,
    pub object: String,
}
