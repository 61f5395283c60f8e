//! The wantloop engine: the loop in one place. [`Engine::open`] builds it from
//! one [`EngineConfig`] — store, this node's search index (caught up from the
//! outbox), the served models, and the cache / bus / lease seams — and every
//! front door (each CLI command, the HTTP API) works through the value it
//! returns, so they see the same data, index, models and scorer.
//!
//! Architecture invariants: no HTTP here (no axum, tower-http or utoipa in the
//! normal build; schema derives only behind the `openapi` feature that the
//! server turns on); the store has the last word on capacity and state, and
//! everything else the engine holds (index, caches, served models) is derived
//! from it and can be rebuilt.

mod allocate;
pub mod ask;
mod cached;
pub mod cluster;
mod config;
mod engine;
mod error;
pub mod faq;
pub mod faq_file;
mod faq_meaning;
pub mod graph;
mod images;
pub mod indexer;
mod intake;
mod jobs;
pub mod match_jobs;
mod matching;
pub mod models;
pub mod outcomes;
mod ranked;
pub mod recommend;
pub mod relay;
pub mod retrain;
mod revectorise;
pub mod ring;
pub mod seams;
mod search;
pub mod signals;
mod synonyms;
pub mod visual;
mod visual_snapshot;

pub use allocate::{AllocationReport, PlannedPair};
pub use config::{EngineConfig, ImageConfig, IndexLocation, JobsConfig, MatchConfig, RetentionConfig};
pub use engine::{Engine, MODELS_SUBJECT};
pub use error::EngineError;
pub use images::{ImageHit, MAX_K as MAX_IMAGE_RESULTS};
pub use intake::{CategoryScore, ClassifyResult};
pub use jobs::{Jobs, LEASE_CAP, LeaderTurn};
pub use matching::{ScoredDemand, ScoredOffer};
pub use retrain::{InteractionWeights, RetrainConfig, RetrainOutcome};
pub use revectorise::RevectorReport;
pub use synonyms::{MAX_SYNONYMS_BYTES, SynonymsInForce};
