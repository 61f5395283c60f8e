//! The recommender protocol on `user<TAB>item` train and test files:
//! hyper-parameters chosen on a seeded validation split of train, the model
//! refitted on all of train, every item without a train interaction ranked,
//! P@k, R@k and NDCG@k averaged over the users with a test item.

use std::path::Path;
use std::time::Instant;

use wantloop_ml::recommender::{self, Interactions, Recommender};

use crate::EvalError;

pub struct Protocol<'a> {
    pub train: &'a Path,
    pub test: &'a Path,
    pub k: usize,
    /// `auto` or a model kind.
    pub model: &'a str,
    pub seed: u64,
    /// Seconds tuning may take (`None`: the default budget for the data's size).
    pub budget_seconds: Option<f64>,
}

/// Runs the protocol; the report is one JSON object.
pub fn run(p: &Protocol) -> Result<serde_json::Value, EvalError> {
    let train = recommender::read_interactions(p.train)?;
    let test = train.project(&recommender::read_pairs(p.test)?);
    let budget = p.budget_seconds.unwrap_or_else(|| recommender::default_budget(&train));
    let selection = recommender::select(p.model, &train, p.k, p.seed, budget)?;
    let (params, tune_seconds) = (selection.params.clone(), selection.seconds);
    let started = Instant::now();
    let model = Recommender::fit(&train, &params)?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let report = recommender::evaluate(&model, &train, &test, p.k);
    let serve = serving_latency(&model, &train, &test);
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
        "total_seconds": tune_seconds + fit_seconds,
        format!("validation_ndcg@{k}"): selection.validation.ndcg,
        "selection": {
            "reason": selection.reason,
            "budget_seconds": selection.budget_seconds,
            "validation_users": selection.validation_users,
            "skipped": selection.skipped,
            "trials": selection.trials,
        },
        "peak_rss_mb": crate::peak_rss_mb(),
        "serve_ms": serve,
        "seed": p.seed,
        "data": {"train": p.train.display().to_string(), "test": p.test.display().to_string()},
        "protocol": "model family and hyper-parameters chosen on a seeded 20% per-user validation split of train (at most 3,000 validation users), within the budget; refit on all of train; rank every item without a train interaction; average over users with a test item",
    }))
}

/// Milliseconds to serve one list as the engine does (score every item from
/// the user's history, keep the best 2,000 not seen), one thread, over up to
/// 1,000 users with test items: p50, p99 and max.
fn serving_latency(model: &Recommender, train: &Interactions, test: &[Vec<u32>]) -> serde_json::Value {
    let users: Vec<usize> = (0..test.len()).filter(|&u| !test[u].is_empty()).take(1_000).collect();
    let mut scores = Vec::new();
    let mut ms: Vec<f64> = users
        .iter()
        .map(|&u| {
            let started = Instant::now();
            let seen = &train.by_user[u];
            model.scores(seen, Some(u as u32), &mut scores);
            std::hint::black_box(model.top_k(&scores, 2_000, |i| seen.binary_search(&i).is_ok()));
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms.get(((ms.len() as f64 * q).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0.0);
    serde_json::json!({"p50": at(0.5), "p99": at(0.99), "max": ms.last().copied().unwrap_or(0.0), "users": ms.len()})
}
