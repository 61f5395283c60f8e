//! Implicit ALS (Hu, Koren & Volinsky, 2008) for catalogues too large for
//! EASE's n × n inverse: user and item factors, confidence 1 + α on observed
//! pairs. Each half-step solves every row's k × k system by a few steps of
//! conjugate gradient warm-started from the previous factors (as `implicit`
//! does), which costs O(k² + |row|·k) per row instead of O(|row|·k²), and
//! rows are solved in parallel.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::RecommenderError;
use super::data::Interactions;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlsParams {
    pub factors: usize,
    pub reg: f64,
    pub alpha: f64,
    pub iterations: usize,
    pub seed: u64,
}

impl Default for AlsParams {
    fn default() -> Self {
        Self { factors: 64, reg: 0.1, alpha: 10.0, iterations: 15, seed: 42 }
    }
}

const CG_STEPS: usize = 6;

/// YᵀY of row-major factors (n × k).
fn gram(y: &[f64], k: usize) -> Vec<f64> {
    let mut g = vec![0.0; k * k];
    for row in y.chunks(k) {
        for i in 0..k {
            let ri = row[i];
            for j in 0..k {
                g[i * k + j] += ri * row[j];
            }
        }
    }
    g
}

/// Dot product with eight independent partial sums, which the compiler can
/// keep in SIMD lanes (a plain running sum must stay sequential).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f64>() + tail
}

/// One row: solve (YᵀY + Σ_{i∈obs} α y_i y_iᵀ + λI) x = Σ_{i∈obs} (1 + α) y_i by CG from x.
fn solve_row(x: &mut [f64], yty: &[f64], fixed: &[f64], observed: &[u32], p: &AlsParams) {
    let k = x.len();
    let times_a = |v: &[f64], out: &mut [f64]| {
        for i in 0..k {
            out[i] = dot(&yty[i * k..(i + 1) * k], v) + p.reg * v[i];
        }
        for &c in observed {
            let y = &fixed[c as usize * k..(c as usize + 1) * k];
            let s = p.alpha * dot(y, v);
            for i in 0..k {
                out[i] += s * y[i];
            }
        }
    };
    let mut r = vec![0.0; k];
    for &c in observed {
        let y = &fixed[c as usize * k..(c as usize + 1) * k];
        for i in 0..k {
            r[i] += (1.0 + p.alpha) * y[i];
        }
    }
    let mut ax = vec![0.0; k];
    times_a(x, &mut ax);
    for i in 0..k {
        r[i] -= ax[i];
    }
    let mut d = r.clone();
    let mut rr = dot(&r, &r);
    let mut ad = vec![0.0; k];
    for _ in 0..CG_STEPS {
        if rr < 1e-20 {
            break;
        }
        times_a(&d, &mut ad);
        let step = rr / dot(&d, &ad).max(1e-300);
        for i in 0..k {
            x[i] += step * d[i];
            r[i] -= step * ad[i];
        }
        let next = dot(&r, &r);
        for i in 0..k {
            d[i] = r[i] + next / rr * d[i];
        }
        rr = next;
    }
}

fn half_step(fixed: &[f64], rows: &[Vec<u32>], p: &AlsParams, target: &mut [f64]) {
    let yty = gram(fixed, p.factors);
    target.par_chunks_mut(p.factors).zip(rows.par_iter()).for_each(|(x, observed)| {
        solve_row(x, &yty, fixed, observed, p);
    });
}

/// Returns (user factors, item factors), row-major, `factors` columns each.
pub fn fit(x: &Interactions, p: &AlsParams) -> Result<(Vec<f32>, Vec<f32>), RecommenderError> {
    fit_with(x, p, |_, _, _| true)
}

/// As [`fit`], calling `after(iteration, users, items)` after each iteration
/// (1-based) with the factors so far; returning `false` stops early. Tuning
/// uses it to pick the number of iterations on validation in one run.
pub fn fit_with(
    x: &Interactions,
    p: &AlsParams,
    mut after: impl FnMut(usize, &[f32], &[f32]) -> bool,
) -> Result<(Vec<f32>, Vec<f32>), RecommenderError> {
    let (nu, ni, k) = (x.n_users(), x.n_items(), p.factors.max(1));
    let p = AlsParams { factors: k, ..*p };
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut users: Vec<f64> = (0..nu * k).map(|_| rng.random::<f64>() * 0.01).collect();
    let mut items: Vec<f64> = (0..ni * k).map(|_| rng.random::<f64>() * 0.01).collect();
    let by_item = x.by_item();
    let narrow = |v: &[f64]| -> Vec<f32> { v.iter().map(|v| *v as f32).collect() };
    for iteration in 1..=p.iterations {
        half_step(&items, &x.by_user, &p, &mut users);
        half_step(&users, &by_item, &p, &mut items);
        if users.iter().chain(&items).any(|v| !v.is_finite()) {
            return Err(RecommenderError::Numeric("ALS diverged".into()));
        }
        if iteration < p.iterations && !after(iteration, &narrow(&users), &narrow(&items)) {
            break;
        }
    }
    Ok((narrow(&users), narrow(&items)))
}

/// YᵀY of the item factors, which folding a new user in needs.
pub fn item_gram(items: &[f32], k: usize) -> Vec<f64> {
    let wide: Vec<f64> = items.iter().map(|v| f64::from(*v)).collect();
    gram(&wide, k)
}

/// Folds in a user the model was not trained on (or whose history changed):
/// the user half-step for this one history, so a newcomer gets personal
/// results from the first interaction instead of the popularity list.
pub fn fold_in(items: &[f32], yty: &[f64], history: &[u32], p: &AlsParams) -> Vec<f32> {
    let k = p.factors;
    let wide: Vec<f64> = history
        .iter()
        .flat_map(|&i| items[i as usize * k..(i as usize + 1) * k].iter().map(|v| f64::from(*v)))
        .collect();
    let local: Vec<u32> = (0..history.len() as u32).collect();
    let mut x = vec![0.0; k];
    // Cold start from zero: more conjugate-gradient steps than the warm-started fit.
    for _ in 0..3 {
        solve_row(&mut x, yty, &wide, &local, p);
    }
    x.iter().map(|v| *v as f32).collect()
}

pub fn score(users: &[f32], items: &[f32], k: usize, user: usize, out: &mut [f32]) {
    score_vector(&users[user * k..(user + 1) * k], items, k, out);
}

pub fn score_vector(u: &[f32], items: &[f32], k: usize, out: &mut [f32]) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = super::vector::dot(&items[i * k..(i + 1) * k], u);
    }
}
