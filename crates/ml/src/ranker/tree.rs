//! One regression tree grown leaf-wise on gradient histograms: the leaf whose
//! best split gains most is split next, up to `max_leaves` (LightGBM's
//! growth; it reaches a given loss with fewer leaves than depth-wise growth).
//! Every node keeps the output it would give as a leaf, which is what makes
//! the per-feature explanation exact (see `model.rs`).

use serde::{Deserialize, Serialize};

use super::bins::Binned;

#[derive(Debug, Clone, Copy)]
pub(crate) struct TreeParams {
    pub max_leaves: usize,
    pub min_data_in_leaf: usize,
    pub min_hessian: f64,
    pub l2: f64,
    pub learning_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Node {
    /// Output of this node as a leaf (learning rate applied).
    pub value: f64,
    /// `None` for a leaf; else the feature, the threshold (`x <= t` goes
    /// left) and the two children's indices.
    pub split: Option<(usize, f64, usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The leaf `x` reaches, and the nodes on the way (root first).
    pub fn path(&self, x: &[f64]) -> impl Iterator<Item = &Node> {
        let mut at = Some(0);
        std::iter::from_fn(move || {
            let node = &self.nodes[at?];
            at = node.split.map(|(f, t, l, r)| if x[f] <= t { l } else { r });
            Some(node)
        })
    }

    pub fn predict(&self, x: &[f64]) -> f64 {
        let mut i = 0;
        while let Some((f, t, l, r)) = self.nodes[i].split {
            i = if x[f] <= t { l } else { r };
        }
        self.nodes[i].value
    }
}

#[derive(Debug, Clone, Copy)]
struct Split {
    gain: f64,
    feature: usize,
    bin: u8,
}

struct Leaf {
    node: usize,
    rows: Vec<u32>,
    /// Gradient histograms per feature, kept while the leaf may still split
    /// (a child's are its parent's minus its sibling's).
    hist: Histograms,
    best: Option<Split>,
}

/// Per feature, per bin: summed gradient, hessian and row count.
type Histograms = Vec<Vec<(f64, f64, usize)>>;

fn output(g: f64, h: f64, p: &TreeParams) -> f64 {
    -g / (h + p.l2) * p.learning_rate
}

fn score(g: f64, h: f64, l2: f64) -> f64 {
    g * g / (h + l2)
}

/// The histograms of `rows`, features in parallel (the split search's one
/// pass over the data).
fn histograms(data: &Binned, grad: &[f64], hess: &[f64], rows: &[u32]) -> Histograms {
    use rayon::prelude::*;
    data.columns
        .par_iter()
        .enumerate()
        .map(|(f, column)| {
            let mut hist = vec![(0.0f64, 0.0f64, 0usize); data.bins.cuts[f].len() + 1];
            for &i in rows {
                let b = &mut hist[column[i as usize] as usize];
                b.0 += grad[i as usize];
                b.1 += hess[i as usize];
                b.2 += 1;
            }
            hist
        })
        .collect()
}

/// `parent − child`, bin by bin: the sibling's histograms without a pass
/// over its rows (LightGBM's subtraction trick; the larger child is the one
/// derived, so each split scans at most half its parent's rows).
fn subtract(parent: &Histograms, child: &Histograms) -> Histograms {
    parent
        .iter()
        .zip(child)
        .map(|(p, c)| p.iter().zip(c).map(|(a, b)| (a.0 - b.0, a.1 - b.1, a.2 - b.2)).collect())
        .collect()
}

/// The best split given a node's histograms, if one gains anything.
fn best_split(hist: &Histograms, rows: usize, p: &TreeParams) -> Option<Split> {
    if rows < 2 * p.min_data_in_leaf.max(1) {
        return None;
    }
    let (g_all, h_all) = hist.first()?.iter().fold((0.0, 0.0), |(g, h), b| (g + b.0, h + b.1));
    let parent = score(g_all, h_all, p.l2);
    let mut best: Option<Split> = None;
    for (f, bins) in hist.iter().enumerate() {
        let n_bins = bins.len();
        if n_bins < 2 {
            continue;
        }
        let (mut gl, mut hl, mut nl) = (0.0, 0.0, 0usize);
        for (b, &(g, h, n)) in bins.iter().enumerate().take(n_bins - 1) {
            gl += g;
            hl += h;
            nl += n;
            // An empty bin moves no row; in a derived histogram it may still
            // hold rounding dust, which must not move the threshold.
            if n == 0 {
                continue;
            }
            let nr = rows - nl;
            if nl < p.min_data_in_leaf || hl < p.min_hessian {
                continue;
            }
            if nr < p.min_data_in_leaf || h_all - hl < p.min_hessian {
                break;
            }
            let gain = score(gl, hl, p.l2) + score(g_all - gl, h_all - hl, p.l2) - parent;
            if gain > 1e-12 && best.is_none_or(|s| gain > s.gain) {
                best = Some(Split { gain, feature: f, bin: b as u8 });
            }
        }
    }
    best
}

fn node_value(grad: &[f64], hess: &[f64], rows: &[u32], p: &TreeParams) -> f64 {
    let (g, h) = rows.iter().fold((0.0, 0.0), |(g, h), &i| (g + grad[i as usize], h + hess[i as usize]));
    output(g, h, p)
}

/// Grows one tree on all rows of `data`.
pub(crate) fn grow(data: &Binned, grad: &[f64], hess: &[f64], p: &TreeParams) -> Tree {
    let rows: Vec<u32> = (0..grad.len() as u32).collect();
    let mut nodes = vec![Node { value: node_value(grad, hess, &rows, p), split: None }];
    let hist = histograms(data, grad, hess, &rows);
    let best = best_split(&hist, rows.len(), p);
    let mut leaves = vec![Leaf { node: 0, rows, hist, best }];
    while leaves.len() < p.max_leaves.max(1) {
        let Some((at, split)) = leaves
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.best.map(|s| (i, s)))
            .max_by(|a, b| a.1.gain.total_cmp(&b.1.gain))
        else {
            break;
        };
        let leaf = leaves.swap_remove(at);
        let column = &data.columns[split.feature];
        let (left, right): (Vec<u32>, Vec<u32>) = leaf.rows.iter().partition(|&&i| column[i as usize] <= split.bin);
        let (li, ri) = (nodes.len(), nodes.len() + 1);
        let threshold = data.bins.cuts[split.feature][split.bin as usize];
        nodes[leaf.node].split = Some((split.feature, threshold, li, ri));
        let left_smaller = left.len() <= right.len();
        let small = histograms(data, grad, hess, if left_smaller { &left } else { &right });
        let large = subtract(&leaf.hist, &small);
        let (left_hist, right_hist) = if left_smaller { (small, large) } else { (large, small) };
        for (idx, rows, hist) in [(li, left, left_hist), (ri, right, right_hist)] {
            nodes.push(Node { value: node_value(grad, hess, &rows, p), split: None });
            let best = best_split(&hist, rows.len(), p);
            leaves.push(Leaf { node: idx, rows, hist, best });
        }
    }
    Tree { nodes }
}
