//! What an engine is opened with. Every front door (the `serve`, `demo`,
//! `import`, `allocate`, … commands and the HTTP API) fills one [`EngineConfig`]
//! and calls [`crate::Engine::open`], so each sees the same store, index,
//! models and scorer.

use std::path::PathBuf;
use std::time::Duration;

use wantloop_core::time::HOUR_MS;
use wantloop_match::Weights;

use crate::retrain::RetrainConfig;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `sqlite://…` (embedded) or `postgres://…`.
    pub database_url: String,
    pub index: IndexLocation,
    pub matching: MatchConfig,
    pub retrain: RetrainConfig,
    pub jobs: JobsConfig,
    /// Where model files go (`wantloop_store::open_blobs`: a folder,
    /// `file:///…` or `memory:`); `None`: in the database.
    pub blobs: Option<String>,
    /// A read replica of the PostgreSQL store for list reads (`GET /v1/demands`,
    /// `/v1/offers`, `/v1/matches`, the review queue); `None`: the store.
    pub read_database_url: Option<String>,
    pub images: ImageConfig,
    /// all-MiniLM-L6-v2's folder (`wantloop models install text`): English
    /// questions are matched to the FAQ by meaning; `None`: by their words.
    pub sentence_model: Option<PathBuf>,
}

/// Images: decoding limits, how many per offer or demand, and the
/// pretrained network's weights (none: hand-crafted features).
#[derive(Debug, Clone)]
pub struct ImageConfig {
    pub limits: wantloop_image::Limits,
    pub max_per_owner: u32,
    /// EfficientNet-Lite0's weights (`wantloop models install image`).
    pub model: Option<PathBuf>,
}

impl ImageConfig {
    /// Default limits, 8 images per owner, the network if installed under `data_dir`.
    pub fn under(data_dir: &std::path::Path) -> Self {
        Self {
            limits: wantloop_image::Limits::default(),
            max_per_owner: 8,
            model: wantloop_image::learned::installed(data_dir),
        }
    }
}

impl EngineConfig {
    /// The embedded profile: SQLite, the search index and model files under `data_dir`.
    pub fn embedded(data_dir: &std::path::Path) -> Self {
        Self {
            database_url: format!("sqlite://{}/wantloop.db", data_dir.display()),
            index: IndexLocation::Dir(data_dir.join("search")),
            matching: MatchConfig::default(),
            retrain: RetrainConfig::default(),
            jobs: JobsConfig::default(),
            blobs: Some(data_dir.join("blobs").display().to_string()),
            read_database_url: None,
            images: ImageConfig::under(data_dir),
            sentence_model: wantloop_ml::sentence::installed(data_dir),
        }
    }
}

/// Where this node's search index lives.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexLocation {
    /// A folder, kept across restarts and caught up from the outbox at open.
    Dir(PathBuf),
    /// In memory, rebuilt from the store at open (tests, throwaway runs).
    Memory,
}

/// Tunables of matching and intake.
#[derive(Debug, Clone)]
pub struct MatchConfig {
    /// Demands classified with less confidence than this go to the review queue.
    pub review_threshold: f64,
    pub weights: Weights,
    /// Pairs scoring below this are never proposed.
    pub min_score: f64,
    /// A proposed match not accepted within this time expires.
    pub proposal_ttl_ms: i64,
    /// Candidate offers kept per demand in batch allocation.
    pub max_candidates: usize,
}

impl Default for MatchConfig {
    fn default() -> Self {
        Self {
            review_threshold: 0.5,
            weights: Weights::default(),
            min_score: 0.05,
            proposal_ttl_ms: 48 * HOUR_MS,
            max_candidates: 50,
        }
    }
}

/// The background jobs of a serving engine (see `jobs.rs`).
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// How often due proposals and demands are expired.
    pub expiry_interval: Duration,
    /// How often to check the registry for a newly activated model.
    pub model_poll_interval: Duration,
    /// How often the indexer polls the outbox.
    pub index_interval: Duration,
    /// Run the retraining scheduler in this process.
    pub retrain_scheduler: bool,
    pub retention: RetentionConfig,
    /// Scheduled batch allocation (leader-only): how often, `None` for never.
    pub allocate_every: Option<Duration>,
    pub allocate_mode: wantloop_match::batch::Mode,
}

/// What the retention sweep (leader-only) deletes, by age; `None` keeps forever.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionConfig {
    pub every: Duration,
    /// Outbox events, never before every consumer seen within `consumer_ttl` passed them.
    pub events: Option<Duration>,
    pub idempotency_keys: Option<Duration>,
    /// Interactions, never before the latest recommender trained on them.
    pub interactions: Option<Duration>,
    pub finished_jobs: Option<Duration>,
    /// Jobs still running this long after they started are marked failed.
    pub abandoned_jobs: Option<Duration>,
    /// Questions the assistant kept that no operator answered.
    pub open_questions: Option<Duration>,
    /// A consumer (a node's persistent index) silent this long no longer holds
    /// events back; it rebuilds when it returns.
    pub consumer_ttl: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        const DAY: u64 = 24 * 3600;
        Self {
            every: Duration::from_secs(3600),
            events: Some(Duration::from_secs(30 * DAY)),
            idempotency_keys: Some(Duration::from_secs(DAY)),
            interactions: None,
            finished_jobs: Some(Duration::from_secs(7 * DAY)),
            abandoned_jobs: Some(Duration::from_secs(DAY)),
            open_questions: Some(Duration::from_secs(90 * DAY)),
            consumer_ttl: Duration::from_secs(7 * DAY),
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            expiry_interval: Duration::from_secs(30),
            model_poll_interval: Duration::from_secs(10),
            index_interval: Duration::from_secs(1),
            retrain_scheduler: false,
            retention: RetentionConfig::default(),
            allocate_every: None,
            allocate_mode: wantloop_match::batch::Mode::Optimal,
        }
    }
}
