//! Item-kNN: cosine similarity between items' user sets, keeping each item's
//! `k` most similar neighbours.

use super::cooccur::{self, Neighbours};
use super::data::Interactions;

pub fn fit(x: &Interactions, k: usize) -> Neighbours {
    let by_item = x.by_item();
    let ones = vec![1.0f32; x.n_users()];
    let pop: Vec<f32> = by_item.iter().map(|us| us.len() as f32).collect();
    cooccur::neighbours(x, &by_item, &ones, k, |i, j, c| c / (pop[i] * pop[j]).sqrt())
}
