//! Recommenders from implicit feedback: EASE (closed form, with faer), implicit
//! ALS for catalogues too large for EASE, item-kNN, and popularity. One
//! [`Recommender`] value scores items for a history, ranks them with
//! exclusions, evaluates itself, and serialises to bytes for the registry.

mod als;
pub mod data;
mod ease;
mod knn;
pub mod metrics;
mod model;
mod selection;

pub use als::AlsParams;
pub use data::{Interactions, from_pairs, read_pairs};
pub use model::{Params, Recommender};
pub use selection::{EvalReport, auto_kind, evaluate, evaluate_mapped, split_validation, tune};

/// EASE keeps an items × items matrix; above this many items the trainer
/// switches to ALS (EASE's Gram inverse would need > 500 MB and minutes).
pub const EASE_MAX_ITEMS: usize = 8_000;

#[derive(Debug, thiserror::Error)]
pub enum RecommenderError {
    #[error("{file}:{line}: {reason}")]
    BadLine { file: String, line: usize, reason: String },
    #[error("no interactions")]
    Empty,
    #[error("{0}")]
    Io(String),
    #[error("numerical failure: {0}")]
    Numeric(String),
    #[error("not a wantloop recommender model: {0}")]
    BadModel(String),
}
