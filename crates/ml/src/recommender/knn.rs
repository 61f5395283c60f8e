//! Item-kNN: cosine similarity between items' user sets, keeping each item's
//! `k` most similar neighbours.

use super::cooccur::{self, Neighbours};
use super::data::Interactions;
use super::ease_dual::by_item;

pub fn fit(x: &Interactions, k: usize) -> Neighbours {
    let by_item = by_item(x);
    let ones = vec![1.0f32; x.n_users()];
    let pop: Vec<f32> = by_item.iter().map(|us| us.len() as f32).collect();
    cooccur::neighbours(x, &by_item, &ones, k, |i, j, c| c / (pop[i] * pop[j]).sqrt())
}
