//! Bootstrap intervals over people and a two-parameter logistic calibration
//! (Platt scaling) of ranker scores into acceptance probabilities.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Interval {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

const RESAMPLES: usize = 1_000;

/// The mean of `values` (one per person) with its 95% percentile bootstrap interval.
pub fn bootstrap(values: &[f64], seed: u64) -> Interval {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    if n == 0 {
        return Interval { mean, low: mean, high: mean };
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut means: Vec<f64> =
        (0..RESAMPLES).map(|_| (0..n).map(|_| values[rng.random_range(0..n)]).sum::<f64>() / n as f64).collect();
    means.sort_by(f64::total_cmp);
    Interval { mean, low: means[RESAMPLES * 25 / 1000], high: means[RESAMPLES * 975 / 1000 - 1] }
}

/// The mean over groups (seeds) of each group's mean (over people), with a
/// 95% two-level percentile bootstrap: groups resampled, then the people of
/// each drawn group, so the interval carries both the seeds' and the
/// people's variation. With few groups it is rough.
pub fn bootstrap_two_level(groups: &[Vec<f64>], seed: u64) -> Interval {
    let groups: Vec<&Vec<f64>> = groups.iter().filter(|g| !g.is_empty()).collect();
    let mean_of = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let k = groups.len();
    if k == 0 {
        return Interval { mean: 0.0, low: 0.0, high: 0.0 };
    }
    let mean = groups.iter().map(|g| mean_of(g)).sum::<f64>() / k as f64;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut means: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let total: f64 = (0..k)
                .map(|_| {
                    let g = groups[rng.random_range(0..k)];
                    (0..g.len()).map(|_| g[rng.random_range(0..g.len())]).sum::<f64>() / g.len() as f64
                })
                .sum();
            total / k as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    Interval { mean, low: means[RESAMPLES * 25 / 1000], high: means[RESAMPLES * 975 / 1000 - 1] }
}

/// `p = σ(a·score + b)` fitted by Newton's method on the log loss; the
/// allocation maximises expected satisfied demands with these.
#[derive(Debug, Clone, Copy)]
pub struct Calibration {
    a: f64,
    b: f64,
}

impl Calibration {
    pub fn fit(scores: &[f64], accepted: &[bool]) -> Self {
        let (mut a, mut b) = (1.0, 0.0);
        for _ in 0..50 {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-6, 0.0, 1e-6);
            for (s, y) in scores.iter().zip(accepted) {
                let p = 1.0 / (1.0 + (-(a * s + b)).exp());
                let e = p - f64::from(u8::from(*y));
                let w = p * (1.0 - p);
                ga += e * s;
                gb += e;
                haa += w * s * s;
                hab += w * s;
                hbb += w;
            }
            let det = haa * hbb - hab * hab;
            if det.abs() < 1e-12 {
                break;
            }
            let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
            a -= da;
            b -= db;
            if da.abs() + db.abs() < 1e-9 {
                break;
            }
        }
        Self { a, b }
    }

    pub fn probability(&self, score: f64) -> f64 {
        1.0 / (1.0 + (-(self.a * score + self.b)).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_recovers_a_logistic_law_and_bootstrap_brackets_the_mean() {
        let mut rng = StdRng::seed_from_u64(1);
        let scores: Vec<f64> = (0..4000).map(|_| rng.random_range(-3.0..3.0)).collect();
        let accepted: Vec<bool> =
            scores.iter().map(|s| rng.random::<f64>() < 1.0 / (1.0 + (-(2.0 * s - 0.5)).exp())).collect();
        let c = Calibration::fit(&scores, &accepted);
        assert!((c.a - 2.0).abs() < 0.25 && (c.b + 0.5).abs() < 0.2, "{c:?}");
        let values: Vec<f64> = (0..500).map(|i| f64::from(i % 2)).collect();
        let i = bootstrap(&values, 3);
        assert!(i.low < 0.5 && 0.5 < i.high && i.high - i.low < 0.1, "{i:?}");
    }
}
