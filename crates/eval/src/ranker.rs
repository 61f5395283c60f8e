//! `wantloop eval ranker`: LambdaMART tuned by cross-validation on the
//! training file's queries, refitted on all of it, and scored on the test file; the
//! same test scored by one feature at a time shows what the model adds.

use std::path::Path;
use std::time::Instant;

use serde_json::{Value, json};
use wantloop_ml::ranker::{self, RankSet};

use crate::EvalError;

pub fn run(train_path: &Path, test_path: &Path, params: Option<ranker::Params>) -> Result<Value, EvalError> {
    let mut train = ranker::read_rank_set(train_path)?;
    let mut test = ranker::read_rank_set(test_path)?;
    // SVMlight files name features by index; one whose rows never use the
    // last index is narrower, not different.
    let width = train.n_features().max(test.n_features());
    train.pad_features(width);
    test.pad_features(width);
    if train.feature_names != test.feature_names {
        return Err(EvalError::Format(format!(
            "the test file's features {:?} differ from the training file's {:?}",
            test.feature_names, train.feature_names
        )));
    }
    let (chosen, tuning) = match params {
        Some(p) => (p, Value::Null),
        None => {
            let t = ranker::tune(&train)?;
            (t.chosen.clone(), serde_json::to_value(&t).unwrap_or_default())
        }
    };
    let started = Instant::now();
    let (model, _) = ranker::fit(&train, None, &chosen)?;
    let train_seconds = started.elapsed().as_secs_f64();
    let m = ranker::rank_metrics(&test, |x| model.score(x));
    let best_single = best_single_feature(&test);
    Ok(json!({
        "model": "lambdamart",
        "ndcg@5": m.ndcg_5, "ndcg@10": m.ndcg_10, "map": m.map,
        "train_seconds": train_seconds,
        "tune_seconds": tuning["seconds"],
        "params": chosen, "trees": model.n_trees(),
        "tuning": tuning,
        "train": {"queries": train.queries.len(), "rows": train.len()},
        "test": {"queries": test.queries.len(), "rows": test.len(), "positive_share": positive_share(&test)},
        "features": train.feature_names,
        "best_single_feature_on_test": best_single,
        "protocol": "leaves, learning rate, minimum leaf size and rounds chosen by 4-fold cross-validation over contiguous blocks of train's queries (NDCG@10; past 50,000 rows, of every k-th query, about 50,000 rows), refitted on all of train; metrics on test (gain 2^label-1; a query with nothing relevant scores 1 in NDCG, 0 in MAP)",
    }))
}

fn positive_share(set: &RankSet) -> f64 {
    set.labels.iter().filter(|l| **l > 0.0).count() as f64 / set.len().max(1) as f64
}

/// Test NDCG@10 of ranking by each feature alone (a reference, never used to choose anything).
fn best_single_feature(test: &RankSet) -> Value {
    let scored =
        test.feature_names.iter().enumerate().map(|(f, name)| (name, ranker::rank_metrics(test, |x| x[f]).ndcg_10));
    match scored.max_by(|a, b| a.1.total_cmp(&b.1)) {
        Some((name, ndcg)) => json!({"feature": name, "ndcg@10": ndcg}),
        None => Value::Null,
    }
}
