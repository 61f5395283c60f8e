//! LambdaRank gradients (Burges 2010, as LightGBM computes them): for every
//! pair of a query's rows with different labels, a logistic pairwise loss on
//! their score difference weighted by how much swapping them would change
//! NDCG. Pairs are those with at least one row in the current top
//! `truncation` positions, and each query's gradients are normalised.

use rayon::prelude::*;

use super::data::RankSet;

fn gain(label: f64) -> f64 {
    label.exp2() - 1.0
}

fn discount(position: usize) -> f64 {
    1.0 / (position as f64 + 2.0).log2()
}

/// Fills `grad` and `hess` for every row of `set` given current `scores`.
pub(crate) fn gradients(
    set: &RankSet,
    scores: &[f64],
    sigma: f64,
    truncation: usize,
    grad: &mut [f64],
    hess: &mut [f64],
) {
    let per_query: Vec<(usize, Vec<f64>, Vec<f64>)> = set
        .queries
        .par_iter()
        .map(|q| {
            let (g, h) = query_gradients(&set.labels[q.clone()], &scores[q.clone()], sigma, truncation);
            (q.start, g, h)
        })
        .collect();
    for (start, g, h) in per_query {
        grad[start..start + g.len()].copy_from_slice(&g);
        hess[start..start + h.len()].copy_from_slice(&h);
    }
}

fn query_gradients(labels: &[f64], scores: &[f64], sigma: f64, truncation: usize) -> (Vec<f64>, Vec<f64>) {
    let n = labels.len();
    let (mut lambdas, mut hessians) = (vec![0.0; n], vec![0.0; n]);
    let mut ideal = labels.to_vec();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let max_dcg: f64 = ideal.iter().take(truncation).enumerate().map(|(p, &l)| gain(l) * discount(p)).sum();
    if max_dcg <= 0.0 {
        return (lambdas, hessians);
    }
    let inverse_max_dcg = 1.0 / max_dcg;
    let mut sorted: Vec<usize> = (0..n).collect();
    sorted.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (best, worst) = (scores[sorted[0]], scores[sorted[n - 1]]);
    let mut sum_lambdas = 0.0;
    for i in 0..n.min(truncation) {
        for j in i + 1..n {
            let (a, b) = (sorted[i], sorted[j]);
            if labels[a] == labels[b] {
                continue;
            }
            let (high, low, high_pos, low_pos) = if labels[a] > labels[b] { (a, b, i, j) } else { (b, a, j, i) };
            let delta_score = scores[high] - scores[low];
            let gap = gain(labels[high]) - gain(labels[low]);
            let paired_discount = (discount(high_pos) - discount(low_pos)).abs();
            let mut delta_ndcg = gap * paired_discount * inverse_max_dcg;
            // Pairs already far apart in score matter less (LightGBM's `norm`).
            if best != worst {
                delta_ndcg /= 0.01 + delta_score.abs();
            }
            let rho = 1.0 / (1.0 + (sigma * delta_score).exp());
            let lambda = -sigma * rho * delta_ndcg;
            let hessian = sigma * sigma * rho * (1.0 - rho) * delta_ndcg;
            lambdas[high] += lambda;
            lambdas[low] -= lambda;
            hessians[high] += hessian;
            hessians[low] += hessian;
            sum_lambdas -= 2.0 * lambda;
        }
    }
    if sum_lambdas > 0.0 {
        let norm = (1.0 + sum_lambdas).log2() / sum_lambdas;
        lambdas.iter_mut().for_each(|l| *l *= norm);
        hessians.iter_mut().for_each(|h| *h *= norm);
    }
    (lambdas, hessians)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_the_relevant_row_up_and_the_other_down() {
        let (g, h) = query_gradients(&[0.0, 1.0, 0.0], &[0.0, 0.0, 0.0], 1.0, 30);
        // A negative gradient raises the score.
        assert!(g[1] < 0.0 && g[0] > 0.0 && g[2] > 0.0, "{g:?}");
        assert!((g.iter().sum::<f64>()).abs() < 1e-12);
        assert!(h.iter().all(|x| *x > 0.0));
        let (g, _) = query_gradients(&[0.0, 0.0], &[1.0, 0.0], 1.0, 30);
        assert_eq!(g, [0.0, 0.0]);
    }
}
