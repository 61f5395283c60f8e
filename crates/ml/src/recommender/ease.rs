//! EASE (Steck, 2019): a closed-form item–item model, B = I − P·diag(1/diag P)
//! with P = (XᵀX + Λ)⁻¹ and a zero diagonal, with the dropout-emphasised
//! regulariser of EDLAE (Steck, 2020): Λ = λI + p/(1−p)·diag(XᵀX). With
//! `dropout = 0` this is plain EASE. The inverse comes from faer's Cholesky.

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};

use super::RecommenderError;
use super::data::Interactions;

/// The Gram matrix XᵀX of the binary user × item matrix, from the histories.
fn gram_as<T: faer::traits::ComplexField + Copy + From<f32> + std::ops::AddAssign>(x: &Interactions) -> Mat<T> {
    let n = x.n_items();
    let one: T = T::from(1.0f32);
    let mut g = Mat::<T>::zeros(n, n);
    for h in &x.by_user {
        for &a in h {
            for &b in h {
                g[(a as usize, b as usize)] += one;
            }
        }
    }
    g
}

/// Fits B (row-major n × n, `b[i * n + j]` = weight of item i for item j).
/// Single precision: with λ ≥ 1 the system is well conditioned, and f32 halves
/// the time of the n³ inverse.
pub fn fit(x: &Interactions, lambda: f64, dropout: f64) -> Result<Vec<f32>, RecommenderError> {
    let n = x.n_items();
    let mut g = gram_as::<f32>(x);
    let emphasis = if dropout > 0.0 { dropout / (1.0 - dropout) } else { 0.0 };
    for i in 0..n {
        let gii = f64::from(g[(i, i)]);
        g[(i, i)] = (gii + lambda + emphasis * gii) as f32;
    }
    let p = g.llt(Side::Lower).map_err(|e| RecommenderError::Numeric(format!("{e:?}")))?.inverse();
    let mut b = vec![0.0f32; n * n];
    for j in 0..n {
        let pjj = p[(j, j)];
        for i in 0..n {
            if i != j {
                b[i * n + j] = -p[(i, j)] / pjj;
            }
        }
    }
    Ok(b)
}

/// Scores of every item for a history: the sum of the history's rows of B.
pub fn score(b: &[f32], n: usize, history: &[u32], out: &mut [f32]) {
    out.iter_mut().for_each(|s| *s = 0.0);
    for &i in history {
        let row = &b[i as usize * n..(i as usize + 1) * n];
        for (o, w) in out.iter_mut().zip(row) {
            *o += w;
        }
    }
}
