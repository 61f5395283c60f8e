//! The learned parts of wantloop, each trained, evaluated and saved by the
//! tool itself: the demand classifier (this crate's first model) and the
//! evaluation metrics shared by all models.
//!
//! Architecture invariant: no storage and no HTTP. Models are plain values
//! that serialise to bytes; the store keeps the bytes in its model registry.

pub mod classifier;
pub mod metrics;
pub mod paraphrase;
pub mod ranker;
pub mod recommender;
pub mod sentence;

pub use classifier::{Classifier, LabelledText, TrainConfig, TrainReport};
