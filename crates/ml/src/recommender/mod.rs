//! Recommenders from implicit feedback: EASE (closed form with faer, in its
//! primal or dual form), implicit ALS, RP3beta, item-kNN and popularity. One
//! [`Recommender`] value scores items for a history, ranks them with
//! exclusions, evaluates itself, and serialises to bytes for the registry.
//! `selection` chooses among the families on validation data.

mod als;
mod cooccur;
pub mod data;
mod ease;
mod ease_dual;
mod evaluation;
mod knn;
pub mod metrics;
mod model;
mod model_file;
mod rp3;
mod search;
mod selection;
mod vector;

pub use als::AlsParams;
pub use data::{Interactions, from_pairs, read_interactions, read_pairs};
pub use evaluation::{EvalReport, evaluate, evaluate_mapped, split_validation};
pub use model::{EaseLayout, Params, Recommender, ease_layout};
pub use rp3::Rp3Params;
pub use selection::{Selection, Trial, default_budget, select, tune};

/// Primal EASE keeps an items × items matrix and inverts it: above this many
/// items (and users) it would need > 250 MB and minutes.
pub const EASE_MAX_ITEMS: usize = 8_000;
/// Dual EASE keeps a users × users inverse and a users × items matrix.
pub const EASE_MAX_USERS: usize = 6_000;

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
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("not a wantloop recommender model: {0}")]
    BadModel(String),
}
