//! RP3beta (Paudel et al., 2017; as tuned in Dacrema et al., 2019): a
//! three-step random walk item → user → item, with transition probabilities
//! raised to α, the arrival item's popularity divided out to the power β, and
//! each item's `k` strongest successors kept:
//! W[i, j] = (1/deg i)^α · Σ_{u ∈ users(i) ∩ users(j)} (1/deg u)^α / (deg j)^β.
//! Sparse (built on `cooccur`), so it fits catalogues far beyond EASE's reach,
//! and on many data sets it ranks close to EASE.

use serde::{Deserialize, Serialize};

use super::cooccur::{self, Neighbours};
use super::data::Interactions;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rp3Params {
    pub alpha: f64,
    pub beta: f64,
    pub neighbours: usize,
}

pub fn fit(x: &Interactions, p: &Rp3Params) -> Neighbours {
    let by_item = x.by_item();
    let alpha = p.alpha as f32;
    let beta = p.beta as f32;
    let user_weight: Vec<f32> =
        x.by_user.iter().map(|h| if h.is_empty() { 0.0 } else { (1.0 / h.len() as f32).powf(alpha) }).collect();
    let from: Vec<f32> =
        by_item.iter().map(|us| if us.is_empty() { 0.0 } else { (1.0 / us.len() as f32).powf(alpha) }).collect();
    let to: Vec<f32> =
        by_item.iter().map(|us| if us.is_empty() { 0.0 } else { (us.len() as f32).powf(-beta) }).collect();
    cooccur::neighbours(x, &by_item, &user_weight, p.neighbours, |i, j, c| from[i] * c * to[j])
}
