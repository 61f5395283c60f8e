//! Sparse item–item co-occurrence, row by row: for item i, the items its users
//! also interacted with, each weighted by a per-user factor, reduced to the
//! row's best neighbours. Item-kNN and RP3beta are both built on it. The dense
//! Gram matrix costs items² memory (80 GB at 100,000 items); this costs
//! Σ user degree² additions and one items-long accumulator per thread.

use rayon::prelude::*;

use super::data::Interactions;

pub type Neighbours = Vec<Vec<(u32, f32)>>;

/// For every item i: accumulates `acc[j] = Σ_{u ∈ users(i) ∩ users(j)} user_weight[u]`
/// over j ≠ i, maps each entry through `value(i, j, acc[j])`, and keeps the
/// `k` largest (ties: lower index), best first.
pub fn neighbours(
    x: &Interactions,
    by_item: &[Vec<u32>],
    user_weight: &[f32],
    k: usize,
    value: impl Fn(usize, usize, f32) -> f32 + Sync,
) -> Neighbours {
    let n = x.n_items();
    (0..n)
        .into_par_iter()
        .map_init(
            || (vec![0.0f32; n], Vec::<u32>::new()),
            |(acc, touched), i| {
                for &u in &by_item[i] {
                    let w = user_weight[u as usize];
                    for &j in &x.by_user[u as usize] {
                        let slot = &mut acc[j as usize];
                        if *slot == 0.0 {
                            touched.push(j);
                        }
                        *slot += w;
                    }
                }
                let mut row: Vec<(u32, f32)> = touched
                    .iter()
                    .filter(|&&j| j as usize != i)
                    .map(|&j| (j, value(i, j as usize, acc[j as usize])))
                    .filter(|(_, v)| *v > 0.0 && v.is_finite())
                    .collect();
                for &j in touched.iter() {
                    acc[j as usize] = 0.0;
                }
                touched.clear();
                let cmp = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
                if row.len() > k && k > 0 {
                    row.select_nth_unstable_by(k - 1, cmp);
                    row.truncate(k);
                }
                row.sort_by(cmp);
                row.truncate(k);
                // A popular item's row touched most of the catalogue: keep
                // only the k kept, not the capacity of every touched item.
                row.shrink_to_fit();
                row
            },
        )
        .collect()
}

/// Scores of a history: the sum of its items' neighbour rows.
pub fn score(neighbours: &Neighbours, history: &[u32], out: &mut [f32]) {
    out.iter_mut().for_each(|s| *s = 0.0);
    for &i in history {
        for &(j, s) in &neighbours[i as usize] {
            out[j as usize] += s;
        }
    }
}
