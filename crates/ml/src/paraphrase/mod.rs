//! The paraphrase scorer: the probability that two questions ask the same
//! thing, from logistic regression over symmetric pair features (dense
//! overlaps, BM25 both ways, edit distances; hashed shared, differing and
//! cross-pair tokens). The FAQ assistant re-ranks lexical candidates with it;
//! `wantloop eval qmatch` measures it on pair files.
//!
//! Hand-written rather than taken from a crate, like the classifier: the
//! features are specific to question pairs, and the linear model over a
//! million hashed columns trains in seconds with the L-BFGS loop here.

mod dense;
mod lbfgs;
mod mined;
mod model;
mod retrieval;
mod sparse;
mod stats;
mod tokens;
mod train;
mod typos;

pub use mined::mine_pairs;
pub use model::PairScore;
pub use retrieval::{LexicalIndex, Retrieved};
pub use tokens::{Analysed, Tokenisation};
pub use train::{ScorerConfig, ScorerTrainReport, group_folds, train};

use serde::{Deserialize, Serialize};

/// A labelled question pair (`label`: the two ask the same thing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelledPair {
    pub a: String,
    pub b: String,
    pub label: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParaphraseScorer {
    pub(crate) config: ScorerConfig,
    pub(crate) stats: stats::CorpusStats,
    pub(crate) mean: Vec<f64>,
    pub(crate) scale: Vec<f64>,
    pub(crate) dense_weights: Vec<f64>,
    /// One weight per hashed bucket (zero where training saw nothing).
    pub(crate) sparse_weights: Vec<f32>,
    pub(crate) bias: f64,
    pub(crate) threshold: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum ParaphraseError {
    #[error("the training pairs are empty")]
    Empty,
    #[error("the training pairs need both labels, 0 and 1")]
    OneLabel,
    #[error("not a wantloop paraphrase model: {0}")]
    BadModel(String),
}
