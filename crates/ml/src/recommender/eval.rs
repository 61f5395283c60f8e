//! Evaluation under the agreed protocol — rank every item the user has no
//! training interaction with, score the top k against the user's test items —
//! and hyper-parameter tuning on a validation split carved from training data
//! only (never from the test file).

use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;

use super::als::AlsParams;
use super::data::Interactions;
use super::metrics::RankingTotals;
use super::{EASE_MAX_ITEMS, Params, Recommender, RecommenderError};

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub precision: f64,
    pub recall: f64,
    pub ndcg: f64,
    pub users: usize,
}

/// Ranks for every user with test items and averages the metrics.
pub fn evaluate(model: &Recommender, train: &Interactions, test: &[Vec<u32>], k: usize) -> EvalReport {
    let mut totals = RankingTotals::default();
    let mut scores = Vec::new();
    for (u, relevant) in test.iter().enumerate() {
        if relevant.is_empty() {
            continue;
        }
        let seen = &train.by_user[u];
        model.scores(seen, Some(u as u32), &mut scores);
        let ranked: Vec<u32> =
            model.top_k(&scores, k, |i| seen.binary_search(&i).is_ok()).into_iter().map(|(i, _)| i).collect();
        totals.add(&ranked, relevant, k);
    }
    let (precision, recall, ndcg) = totals.means();
    EvalReport { precision, recall, ndcg, users: totals.users }
}

/// As [`evaluate`], for a model fitted on other data: items are matched by id,
/// and the model ranks from each user's `train` history.
pub fn evaluate_mapped(model: &Recommender, train: &Interactions, test: &[Vec<u32>], k: usize) -> EvalReport {
    let mut totals = RankingTotals::default();
    let mut scores = Vec::new();
    for (u, relevant) in test.iter().enumerate() {
        if relevant.is_empty() {
            continue;
        }
        let mut seen: Vec<u32> =
            train.by_user[u].iter().filter_map(|&i| model.item_index(&train.items[i as usize])).collect();
        seen.sort_unstable();
        model.scores(&seen, None, &mut scores);
        let ranked: Vec<u32> = model
            .top_k(&scores, k, |i| seen.binary_search(&i).is_ok())
            .into_iter()
            .filter_map(|(i, _)| train.item(&model.items()[i as usize]))
            .collect();
        totals.add(&ranked, relevant, k);
    }
    let (precision, recall, ndcg) = totals.means();
    EvalReport { precision, recall, ndcg, users: totals.users }
}

/// Moves a seeded `share` of each user's training items (users with at least
/// two) into a validation set.
pub fn split_validation(x: &Interactions, share: f64, seed: u64) -> (Interactions, Vec<Vec<u32>>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut fit = x.clone();
    let mut validation = vec![Vec::new(); x.n_users()];
    for (u, h) in fit.by_user.iter_mut().enumerate() {
        if h.len() < 2 {
            continue;
        }
        let mut shuffled = h.clone();
        shuffled.shuffle(&mut rng);
        let take = ((h.len() as f64 * share).round() as usize).clamp(1, h.len() - 1);
        let mut held: Vec<u32> = shuffled[..take].to_vec();
        held.sort_unstable();
        h.retain(|i| held.binary_search(i).is_err());
        validation[u] = held;
    }
    (fit, validation)
}

/// Above this many items each EASE fit takes seconds, so tuning tries fewer settings.
const LARGE_CATALOGUE: usize = 3_000;

/// The candidate settings tried for a model kind.
fn grid(kind: &str, seed: u64, items: usize) -> Vec<Params> {
    let large = items > LARGE_CATALOGUE;
    match kind {
        "ease" => {
            let (lambdas, dropouts): (&[f64], &[f64]) = if large {
                (&[200.0, 800.0], &[0.0, 0.3])
            } else {
                (&[100.0, 200.0, 400.0, 800.0], &[0.0, 0.15, 0.3, 0.45])
            };
            lambdas
                .iter()
                .flat_map(|&lambda| dropouts.iter().map(move |&dropout| Params::Ease { lambda, dropout }))
                .collect()
        }
        "als" => {
            let factors: &[usize] = if large { &[64] } else { &[32, 64, 128] };
            factors
                .iter()
                .flat_map(|&factors| {
                    [1.0, 10.0].map(|alpha| Params::Als(AlsParams { factors, alpha, reg: 1.0, iterations: 10, seed }))
                })
                .collect()
        }
        "itemknn" => [20, 50, 100, 200].map(|neighbours| Params::ItemKnn { neighbours }).to_vec(),
        _ => vec![Params::Popularity],
    }
}

/// The model kind `auto` picks for a catalogue of this size.
pub fn auto_kind(items: usize) -> &'static str {
    if items <= EASE_MAX_ITEMS { "ease" } else { "als" }
}

/// Picks the setting with the best NDCG@k on a validation split of `train`
/// (20% of each user's items, seeded); returns it with its validation report
/// and the seconds tuning took.
pub fn tune(
    kind: &str,
    train: &Interactions,
    k: usize,
    seed: u64,
) -> Result<(Params, EvalReport, f64), RecommenderError> {
    let started = Instant::now();
    let (fit_part, validation) = split_validation(train, 0.2, seed);
    let mut best: Option<(Params, EvalReport)> = None;
    for params in grid(kind, seed, train.n_items()) {
        let model = Recommender::fit(&fit_part, &params)?;
        let report = evaluate(&model, &fit_part, &validation, k);
        if best.as_ref().is_none_or(|b| report.ndcg > b.1.ndcg) {
            best = Some((params, report));
        }
    }
    let (params, report) = best.ok_or(RecommenderError::Empty)?;
    Ok((params, report, started.elapsed().as_secs_f64()))
}
