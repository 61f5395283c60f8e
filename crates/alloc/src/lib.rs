//! Batch allocation of units from offers to demands.
//!
//! Given demands (each wanting at most `quantity` units), offers (each with at
//! most `capacity` units) and scored feasible (demand, offer) edges, find
//! integral units per edge maximising the total score. Nothing has to be
//! saturated: a unit is only allocated if it adds score.
//!
//! * [`solve_optimal`] — exact, by cost-scaling push-relabel min-cost flow
//!   on integer costs `round(score * scale)`: [`SCORE_SCALE`], or the
//!   largest scale that fits `i64` on huge networks (see [`score_scale`]).
//! * [`solve_greedy`] — descending-score greedy baseline.
//! * [`files`] — the CSV instance format used by benchmarks and the CLI.
//!
//! The crate does no I/O except reading instance files in [`files`].

mod cost_scaling;
mod error;
pub mod files;
mod greedy;
mod instance;
mod network;
mod optimal;

pub use cost_scaling::SolveStats;
pub use error::AllocError;
pub use greedy::solve_greedy;
pub use instance::{Edge, Instance, Solution};
pub use network::{MIN_SCORE_SCALE, SCORE_SCALE, score_scale};
pub use optimal::{solve_optimal, solve_optimal_with_stats};
