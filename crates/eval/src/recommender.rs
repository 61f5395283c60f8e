//! The recommender protocol on `user<TAB>item` train and test files:
//! hyper-parameters chosen on a seeded validation split of train, the model
//! refitted on all of train, every item without a train interaction ranked,
//! P@k, R@k and NDCG@k averaged over the users with a test item.

use std::path::Path;
use std::time::Instant;

use wantloop_ml::recommender::{self, Recommender};

use crate::EvalError;

pub struct Protocol<'a> {
    pub train: &'a Path,
    pub test: &'a Path,
    pub k: usize,
    /// `auto` or a model kind.
    pub model: &'a str,
    pub seed: u64,
}

/// Runs the protocol; the report is one JSON object.
pub fn run(p: &Protocol) -> Result<serde_json::Value, EvalError> {
    let train_pairs = recommender::read_pairs(p.train)?;
    let test_pairs = recommender::read_pairs(p.test)?;
    let train = recommender::from_pairs(&train_pairs);
    let test = train.project(&test_pairs);
    let kind = if p.model == "auto" { recommender::auto_kind(train.n_items()) } else { p.model };
    let (params, validation, tune_seconds) = recommender::tune(kind, &train, p.k, p.seed)?;
    let started = Instant::now();
    let model = Recommender::fit(&train, &params)?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let report = recommender::evaluate(&model, &train, &test, p.k);
    let k = p.k;
    Ok(serde_json::json!({
        "model": params.name(),
        "params": params,
        format!("precision@{k}"): report.precision,
        format!("recall@{k}"): report.recall,
        format!("ndcg@{k}"): report.ndcg,
        "users": report.users,
        "items": train.n_items(),
        "train_interactions": train.len(),
        "fit_seconds": fit_seconds,
        "tune_seconds": tune_seconds,
        format!("validation_ndcg@{k}"): validation.ndcg,
        "peak_rss_mb": crate::peak_rss_mb(),
        "seed": p.seed,
        "data": {"train": p.train.display().to_string(), "test": p.test.display().to_string()},
        "protocol": "hyper-parameters chosen on a seeded 20% per-user validation split of train; refit on all of train; rank every item without a train interaction; average over users with a test item",
    }))
}
