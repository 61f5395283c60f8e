//! Error type of the crate.
//!
//! One enum for everything the library can reject, so callers (CLI, server)
//! can map failures to messages or HTTP statuses without string matching.
//! File errors carry the path and 1-based line number so that a user can fix
//! a bad instance file without guessing.

use std::path::PathBuf;

/// Everything that can go wrong while validating, loading or solving.
#[derive(Debug, thiserror::Error)]
pub enum AllocError {
    /// An edge refers to a demand index that does not exist.
    #[error("edge {edge}: demand index {demand} out of range (have {demands} demands)")]
    DemandOutOfRange {
        /// Edge index in `Instance::edges`.
        edge: usize,
        /// The offending demand index.
        demand: u32,
        /// Number of demands in the instance.
        demands: usize,
    },
    /// An edge refers to an offer index that does not exist.
    #[error("edge {edge}: offer index {offer} out of range (have {offers} offers)")]
    OfferOutOfRange {
        /// Edge index in `Instance::edges`.
        edge: usize,
        /// The offending offer index.
        offer: u32,
        /// Number of offers in the instance.
        offers: usize,
    },
    /// An edge score is NaN or infinite.
    #[error("edge {edge}: score {score} is not finite")]
    NonFiniteScore {
        /// Edge index in `Instance::edges`.
        edge: usize,
        /// The offending score.
        score: f64,
    },
    /// The instance is too large for the index types (u32) used internally.
    #[error("instance too large: {what}")]
    TooLarge {
        /// What exceeded the limit.
        what: String,
    },
    /// Scores are so large (relative to the number of nodes) that the exact
    /// solver's scaled integer costs and prices could overflow `i64`.
    #[error(
        "score magnitude {max_score} is too large for an exact solve of {nodes} nodes \
         (scaled costs could overflow i64)"
    )]
    ScoreRange {
        /// Largest absolute score among usable (positive) edges.
        max_score: f64,
        /// Number of nodes of the flow network.
        nodes: usize,
    },
    /// Reading an instance file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An instance file is malformed.
    #[error("{}:{line}: {reason}", path.display())]
    Parse {
        /// The file being parsed.
        path: PathBuf,
        /// 1-based line number (the header is line 1).
        line: usize,
        /// What is wrong with the line.
        reason: String,
    },
}
