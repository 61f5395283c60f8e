//! Implicit ALS (Hu, Koren & Volinsky, 2008) for catalogues too large for
//! EASE's n × n inverse: user and item factors, confidence 1 + α on observed
//! pairs, each half-step solving small k × k systems with faer's Cholesky.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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

/// Solves every row of `target` given the fixed factors `fixed` and each
/// row's observed columns.
fn half_step(
    fixed: &Mat<f64>,
    rows: &[Vec<u32>],
    p: &AlsParams,
    target: &mut Mat<f64>,
) -> Result<(), RecommenderError> {
    let k = p.factors;
    let yty = fixed.transpose() * fixed;
    for (r, observed) in rows.iter().enumerate() {
        let mut a = yty.clone();
        let mut rhs = Mat::<f64>::zeros(k, 1);
        for &c in observed {
            let y = fixed.row(c as usize);
            for i in 0..k {
                rhs[(i, 0)] += (1.0 + p.alpha) * y[i];
                for j in 0..k {
                    a[(i, j)] += p.alpha * y[i] * y[j];
                }
            }
        }
        for i in 0..k {
            a[(i, i)] += p.reg;
        }
        let llt = a.llt(Side::Lower).map_err(|e| RecommenderError::Numeric(format!("{e:?}")))?;
        let x = llt.solve(&rhs);
        for i in 0..k {
            target[(r, i)] = x[(i, 0)];
        }
    }
    Ok(())
}

/// Returns (user factors, item factors), row-major, `factors` columns each.
pub fn fit(x: &Interactions, p: &AlsParams) -> Result<(Vec<f32>, Vec<f32>), RecommenderError> {
    let (nu, ni, k) = (x.n_users(), x.n_items(), p.factors);
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut users = Mat::<f64>::zeros(nu, k);
    let mut items = Mat::from_fn(ni, k, |_, _| rng.random::<f64>() * 0.01);
    let mut by_item = vec![Vec::new(); ni];
    for (u, h) in x.by_user.iter().enumerate() {
        for &i in h {
            by_item[i as usize].push(u as u32);
        }
    }
    for _ in 0..p.iterations {
        half_step(&items, &x.by_user, p, &mut users)?;
        half_step(&users, &by_item, p, &mut items)?;
    }
    let flat = |m: &Mat<f64>| {
        (0..m.nrows()).flat_map(|r| (0..k).map(move |c| (r, c))).map(|(r, c)| m[(r, c)] as f32).collect()
    };
    Ok((flat(&users), flat(&items)))
}

pub fn score(users: &[f32], items: &[f32], k: usize, user: usize, out: &mut [f32]) {
    let u = &users[user * k..(user + 1) * k];
    for (i, o) in out.iter_mut().enumerate() {
        *o = items[i * k..(i + 1) * k].iter().zip(u).map(|(a, b)| a * b).sum();
    }
}
