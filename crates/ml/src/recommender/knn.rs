//! Item-kNN: cosine similarity between items' user sets (from the Gram
//! matrix), keeping each item's `k` most similar neighbours.

use super::data::Interactions;
use super::ease::gram;

pub type Neighbours = Vec<Vec<(u32, f32)>>;

pub fn fit(x: &Interactions, k: usize) -> Neighbours {
    let n = x.n_items();
    let g = gram(x);
    (0..n)
        .map(|i| {
            let mut sims: Vec<(u32, f32)> = (0..n)
                .filter(|&j| j != i && g[(i, j)] > 0.0)
                .map(|j| (j as u32, (g[(i, j)] / (g[(i, i)] * g[(j, j)]).sqrt()) as f32))
                .collect();
            sims.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            sims.truncate(k);
            sims
        })
        .collect()
}

pub fn score(neighbours: &Neighbours, history: &[u32], out: &mut [f32]) {
    out.iter_mut().for_each(|s| *s = 0.0);
    for &i in history {
        for &(j, s) in &neighbours[i as usize] {
            out[j as usize] += s;
        }
    }
}
