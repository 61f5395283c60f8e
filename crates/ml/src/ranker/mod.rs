//! Learning to rank: LambdaMART (gradient-boosted regression trees fitted to
//! LambdaRank gradients that optimise NDCG), trained on query groups of
//! labelled rows, with per-feature contributions that add up to each score.
//!
//! Written here rather than taken from a crate: the Rust boosting crates
//! (`gbdt`, `forust-ml`, `perpetual`) offer regression and classification
//! objectives but no pairwise/listwise ranking objective, and the LightGBM
//! bindings build a C++ library with CMake. The model is small (histogram
//! trees, leaf-wise growth), and owning it gives the exact explanations the
//! product shows with every match.

mod bins;
mod data;
mod lambdarank;
mod metrics;
mod model;
mod train;
mod tree;

pub use data::{RankSet, read_rank_set};
pub use metrics::{RankMetrics, average_precision, ndcg_at, rank_metrics};
pub use model::{Explanation, Ranker};
pub use train::{Params, TuneReport, fit, tune};

#[derive(Debug, thiserror::Error)]
pub enum RankerError {
    #[error("{file}:{line}: {reason}")]
    BadLine { file: String, line: usize, reason: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("no rows to train on")]
    Empty,
    #[error("feature count differs: the model reads {expected} features, the data has {got}")]
    Features { expected: usize, got: usize },
    #[error("not a ranker model: {0}")]
    BadModel(String),
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    /// Queries of 20 rows whose label depends on two of three features
    /// (one only through an interaction), the third being noise.
    fn synthetic(queries: usize, seed: u64) -> RankSet {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut set = RankSet::new(vec!["a".into(), "b".into(), "noise".into()]);
        for q in 0..queries {
            let rows: Vec<(f64, Vec<f64>)> = (0..20)
                .map(|_| {
                    let (a, b, n): (f64, f64, f64) = (rng.random(), rng.random(), rng.random());
                    let utility = a + if b > 0.5 { 0.8 } else { 0.0 } + 0.3 * rng.random::<f64>();
                    (f64::from(utility > 1.0), vec![a, b, n])
                })
                .collect();
            set.push_query(q.to_string(), rows);
        }
        set
    }

    #[test]
    fn learns_the_labels_signal_and_beats_each_single_feature() {
        let (train, test) = (synthetic(300, 1), synthetic(200, 2));
        let tuned = tune(&train).unwrap();
        let (model, _) = fit(&train, None, &tuned.chosen).unwrap();
        let learnt = rank_metrics(&test, |x| model.score(x)).ndcg_10;
        let by_a = rank_metrics(&test, |x| x[0]).ndcg_10;
        let by_noise = rank_metrics(&test, |x| x[2]).ndcg_10;
        assert!(learnt > by_a + 0.02 && by_a > by_noise, "{learnt} {by_a} {by_noise}");
    }

    #[test]
    fn explanations_add_up_to_the_score_and_credit_the_informative_features() {
        let train = synthetic(200, 3);
        let (model, _) = fit(&train, None, &Params { rounds: 50, ..Params::default() }).unwrap();
        let mut credit = [0.0f64; 3];
        for i in 0..train.len() {
            let x = train.row(i);
            let e = model.explain(x);
            assert!((e.bias + e.contributions.iter().sum::<f64>() - model.score(x)).abs() < 1e-9);
            assert!((e.score - model.score(x)).abs() < 1e-12);
            for (c, v) in credit.iter_mut().zip(&e.contributions) {
                *c += v.abs();
            }
        }
        assert!(credit[0] > 3.0 * credit[2] && credit[1] > 3.0 * credit[2], "{credit:?}");
    }

    #[test]
    fn model_bytes_round_trip_and_bad_bytes_are_refused() {
        let (model, _) = fit(&synthetic(50, 4), None, &Params { rounds: 10, ..Params::default() }).unwrap();
        let back = Ranker::from_bytes(&model.to_bytes()).unwrap();
        assert_eq!(back, model);
        assert!(Ranker::from_bytes(b"WLRANK1\n{").is_err());
        assert!(Ranker::from_bytes(b"nope").is_err());
        let mut cyclic = model.clone();
        cyclic.trees[0].nodes[0].split = Some((0, 0.5, 0, 0));
        assert!(Ranker::from_bytes(&cyclic.to_bytes()).is_err());
        assert!(model.check(2).is_err() && model.check(3).is_ok());
    }
}
