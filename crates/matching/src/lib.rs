//! Matching: which offers can serve a demand (hard constraints), how well
//! (a transparent weighted score with per-feature explanation), and who gets
//! scarce supply when many demands compete (exact or greedy batch allocation).
//!
//! Architecture invariant: pure functions over domain values; no storage, no
//! HTTP. The caller loads demands and offers and applies the proposals through
//! the store, whose guarded updates have the last word on capacity.

pub mod batch;
pub mod constraints;
pub mod plan;
pub mod rules;
pub mod score;
pub mod scoring;

pub use batch::{BatchPlan, Mode};
pub use plan::{Proposal, plan_for_demand};
pub use score::{Scorer, TextScores, Weights};
pub use scoring::{Scoring, Signals};
