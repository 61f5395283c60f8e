//! EASE in its dual form, for data with fewer users than items. The same
//! model as `ease.rs` (B = I − P·diag(1/diag P), P = (XᵀX + Λ)⁻¹, Λ
//! diagonal), but P comes from the Woodbury identity
//! P = Λ⁻¹ − Λ⁻¹Xᵀ K⁻¹ X Λ⁻¹ with K = I + XΛ⁻¹Xᵀ, a users × users matrix. Fitting
//! costs O(Σ item degree² + users³ + users·nnz) instead of O(items³), and the
//! model keeps W = K⁻¹XΛ⁻¹ (users × items) instead of the items × items B:
//! a catalogue of 10,000 items rated by 600 people fits in a fraction of a
//! second where the primal inverse takes a minute.
//!
//! Scores of a history x: x·B = x − (x·P)·diag(1/diag P), with
//! x·P = x/Λ − (XΛ⁻¹x)ᵀ W, and for a training user u simply x_u·P = W[u, :].

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};

use super::RecommenderError;
use super::data::Interactions;
use super::vector::dot;

/// The fitted dual form.
#[derive(Debug, Clone, PartialEq)]
pub struct Dual {
    pub users: usize,
    /// 1/Λ_j per item.
    pub inv_lambda: Vec<f32>,
    /// 1/P_jj per item.
    pub inv_diag: Vec<f32>,
    /// W stored item-major: `w[j * users + u]` = W[u, j].
    pub w: Vec<f32>,
    /// The users of each item (X's columns), for XΛ⁻¹x of a new history.
    pub by_item: Vec<Vec<u32>>,
}

pub fn fit(x: &Interactions, lambda: f64, dropout: f64) -> Result<Dual, RecommenderError> {
    let (nu, n) = (x.n_users(), x.n_items());
    let by_item = x.by_item();
    let emphasis = if dropout > 0.0 { dropout / (1.0 - dropout) } else { 0.0 };
    let inv_lambda: Vec<f64> = by_item.iter().map(|us| 1.0 / (lambda + emphasis * us.len() as f64)).collect();
    // K = I + XΛ⁻¹Xᵀ, summed item by item over pairs of its users (sparse X:
    // Σ degree² additions instead of a users × items × users product).
    let mut k = Mat::<f64>::identity(nu, nu);
    for (j, us) in by_item.iter().enumerate() {
        let l = inv_lambda[j];
        for &a in us {
            for &b in us {
                k[(a as usize, b as usize)] += l;
            }
        }
    }
    let k_inv = k.llt(Side::Lower).map_err(|e| RecommenderError::Numeric(format!("{e:?}")))?.inverse();
    // W[:, j] = K⁻¹ X[:, j] / Λ_j: a sum of K⁻¹'s columns for item j's users.
    let mut w = vec![0.0f32; n * nu];
    let mut inv_diag = vec![0.0f32; n];
    let mut column = vec![0.0f64; nu];
    for (j, us) in by_item.iter().enumerate() {
        column.iter_mut().for_each(|c| *c = 0.0);
        for &u in us {
            for (c, kv) in column.iter_mut().zip(k_inv.col(u as usize).iter()) {
                *c += kv;
            }
        }
        let l = inv_lambda[j];
        // P_jj = (1 − x_jᵀ W[:, j]) / Λ_j.
        let xw: f64 = us.iter().map(|&u| column[u as usize] * l).sum();
        let p_jj = (1.0 - xw) * l;
        if p_jj.is_nan() || p_jj <= 0.0 || p_jj.is_infinite() {
            return Err(RecommenderError::Numeric(format!("EASE: diagonal {p_jj} for item {j}")));
        }
        inv_diag[j] = (1.0 / p_jj) as f32;
        for (o, c) in w[j * nu..(j + 1) * nu].iter_mut().zip(&column) {
            *o = (c * l) as f32;
        }
    }
    Ok(Dual { users: nu, inv_lambda: inv_lambda.iter().map(|v| *v as f32).collect(), inv_diag, w, by_item })
}

/// Scores of every item for any history (ascending item indices).
pub fn score(d: &Dual, history: &[u32], out: &mut [f32]) {
    let nu = d.users;
    let mut a = vec![0.0f32; nu];
    for &i in history {
        let l = d.inv_lambda[i as usize];
        for &u in &d.by_item[i as usize] {
            a[u as usize] += l;
        }
    }
    for (j, o) in out.iter_mut().enumerate() {
        let xp = -dot(&a, &d.w[j * nu..(j + 1) * nu]);
        *o = -xp * d.inv_diag[j];
    }
    for &i in history {
        let j = i as usize;
        // x_j = 1 and x·P gains 1/Λ_j on the history's own items.
        out[j] = 1.0 - (d.inv_lambda[j] - dot(&a, &d.w[j * nu..(j + 1) * nu])) * d.inv_diag[j];
    }
}

/// Scores for training user `u` with its training history: x_u·P = W[u, :].
pub fn score_training_user(d: &Dual, u: usize, history: &[u32], out: &mut [f32]) {
    let nu = d.users;
    for (j, o) in out.iter_mut().enumerate() {
        *o = -d.w[j * nu + u] * d.inv_diag[j];
    }
    for &i in history {
        out[i as usize] += 1.0;
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::super::{data, ease};
    use super::*;

    /// Random data with fewer users than items, where the dual form applies.
    fn wide(seed: u64) -> Interactions {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut pairs = Vec::new();
        for u in 0..12 {
            for i in 0..40 {
                if rng.random::<f64>() < 0.15 + 0.3 * f64::from((u + i) % 3 == 0) {
                    pairs.push((format!("u{u}"), format!("i{i}")));
                }
            }
        }
        data::from_pairs(&pairs)
    }

    fn primal_scores(b: &[f32], n: usize, history: &[u32]) -> Vec<f32> {
        let mut out = vec![0.0; n];
        ease::score(b, n, history, &mut out);
        out
    }

    #[test]
    fn the_dual_form_scores_as_the_primal_inverse_does() {
        for (seed, lambda, dropout) in [(1, 2.0, 0.0), (2, 10.0, 0.3), (3, 0.5, 0.1)] {
            let x = wide(seed);
            let n = x.n_items();
            let b = ease::fit(&x, lambda, dropout).unwrap();
            let d = fit(&x, lambda, dropout).unwrap();
            let mut histories: Vec<Vec<u32>> = x.by_user.clone();
            histories.push(vec![0, 3, 7]);
            histories.push(vec![(n - 1) as u32]);
            for (u, h) in histories.iter().enumerate() {
                let want = primal_scores(&b, n, h);
                let mut got = vec![0.0; n];
                score(&d, h, &mut got);
                if u < x.n_users() {
                    let mut trained = vec![0.0; n];
                    score_training_user(&d, u, h, &mut trained);
                    for (a, t) in got.iter().zip(&trained) {
                        assert!((a - t).abs() < 1e-3, "training-user shortcut differs: {a} vs {t}");
                    }
                }
                for (j, (w, g)) in want.iter().zip(&got).enumerate() {
                    assert!((w - g).abs() < 1e-3 * (1.0 + w.abs()), "seed {seed}, history {u}, item {j}: {w} vs {g}");
                }
            }
        }
    }
}
