//! Model selection: scoring a model on held-out items (rank every item the
//! user has no training interaction with, score the top k against the held-out
//! items), and hyper-parameter tuning on a validation split carved from training
//! data only. Retraining uses it to decide activation; `wantloop-eval` runs it
//! under the published protocol.

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
    /// Each evaluated user's NDCG@k, in user order: two models evaluated on
    /// the same split can be compared user by user.
    #[serde(skip)]
    pub per_user_ndcg: Vec<f64>,
}

/// Ranks for every user with test items and averages the metrics.
pub fn evaluate(model: &Recommender, train: &Interactions, test: &[Vec<u32>], k: usize) -> EvalReport {
    let mut totals = RankingTotals::default();
    let mut per_user_ndcg = Vec::new();
    let mut scores = Vec::new();
    for (u, relevant) in test.iter().enumerate() {
        if relevant.is_empty() {
            continue;
        }
        let seen = &train.by_user[u];
        model.scores(seen, Some(u as u32), &mut scores);
        let ranked: Vec<u32> =
            model.top_k(&scores, k, |i| seen.binary_search(&i).is_ok()).into_iter().map(|(i, _)| i).collect();
        per_user_ndcg.extend(totals.add(&ranked, relevant, k));
    }
    let (precision, recall, ndcg) = totals.means();
    EvalReport { precision, recall, ndcg, users: totals.users, per_user_ndcg }
}

/// As [`evaluate`], for a model fitted on other data: items are matched by id,
/// and the model ranks from each user's `train` history.
pub fn evaluate_mapped(model: &Recommender, train: &Interactions, test: &[Vec<u32>], k: usize) -> EvalReport {
    let mut totals = RankingTotals::default();
    let mut per_user_ndcg = Vec::new();
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
        per_user_ndcg.extend(totals.add(&ranked, relevant, k));
    }
    let (precision, recall, ndcg) = totals.means();
    EvalReport { precision, recall, ndcg, users: totals.users, per_user_ndcg }
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

/// The model kind `auto` picks for a catalogue of this size: the EASE + ALS
/// blend while tuning both stays quick, EASE while its inverse is affordable,
/// ALS beyond.
pub fn auto_kind(items: usize) -> &'static str {
    if items <= LARGE_CATALOGUE {
        "hybrid"
    } else if items <= EASE_MAX_ITEMS {
        "ease"
    } else {
        "als"
    }
}

/// The best of `candidates` by validation NDCG@k.
fn best_of(
    candidates: impl IntoIterator<Item = Params>,
    fit_part: &Interactions,
    validation: &[Vec<u32>],
    k: usize,
) -> Result<(Recommender, EvalReport), RecommenderError> {
    let mut best: Option<(Recommender, EvalReport)> = None;
    for params in candidates {
        let model = Recommender::fit(fit_part, &params)?;
        let report = evaluate(&model, fit_part, validation, k);
        if best.as_ref().is_none_or(|b| report.ndcg > b.1.ndcg) {
            best = Some((model, report));
        }
    }
    best.ok_or(RecommenderError::Empty)
}

/// The hybrid's three stages, all on validation: EASE's (λ, p), then ALS's
/// (α, reg, iterations) at 32 factors, then the blend weight.
fn tune_hybrid(
    full: &Interactions,
    fit_part: &Interactions,
    validation: &[Vec<u32>],
    k: usize,
    seed: u64,
) -> Result<(Params, EvalReport), RecommenderError> {
    let (ease, _) = best_of(grid("ease", seed, fit_part.n_items()), fit_part, validation, k)?;
    let als_grid = [1.0, 3.0, 5.0].iter().flat_map(|&alpha| {
        [10.0, 30.0, 45.0].map(|reg| Params::Als(AlsParams { factors: 32, alpha, reg, iterations: 8, seed }))
    });
    let (als, _) = best_of(als_grid, fit_part, validation, k)?;
    // The blend weight's validation curve is flat and noisy, so it is chosen
    // on the average over three validation splits (this one and two more).
    let mut splits = vec![(ease, als, fit_part.clone(), validation.to_vec())];
    for extra in 1..=2u64 {
        let (part, held) = split_validation(full, 0.2, seed.wrapping_add(extra));
        let e = Recommender::fit(&part, splits[0].0.params())?;
        let a = Recommender::fit(&part, splits[0].1.params())?;
        splits.push((e, a, part, held));
    }
    let mut best: Option<(Params, EvalReport)> = None;
    for w in 0..=10 {
        let mut total = EvalReport { precision: 0.0, recall: 0.0, ndcg: 0.0, users: 0, per_user_ndcg: Vec::new() };
        let mut params = None;
        for (e, a, part, held) in &splits {
            let Some(blend) = Recommender::hybrid_of(e, a, f64::from(w) / 10.0) else { continue };
            let r = evaluate(&blend, part, held, k);
            total.precision += r.precision / splits.len() as f64;
            total.recall += r.recall / splits.len() as f64;
            total.ndcg += r.ndcg / splits.len() as f64;
            total.users = r.users;
            params.get_or_insert_with(|| blend.params().clone());
        }
        if let Some(params) = params
            && best.as_ref().is_none_or(|b| total.ndcg > b.1.ndcg)
        {
            best = Some((params, total));
        }
    }
    best.ok_or(RecommenderError::Empty)
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
    if kind == "hybrid" {
        let (params, report) = tune_hybrid(train, &fit_part, &validation, k, seed)?;
        return Ok((params, report, started.elapsed().as_secs_f64()));
    }
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
