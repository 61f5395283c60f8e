//! Scoring a model on held-out items (rank every item the user has no
//! training interaction with, score the top k against the held-out items), and
//! carving a validation split from training data. Selection, retraining and
//! `wantloop-eval` all measure with these.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::Serialize;

use super::Recommender;
use super::data::Interactions;
use super::metrics::RankingTotals;

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

/// Ranks for every user with test items (in parallel) and averages the metrics.
pub fn evaluate(model: &Recommender, train: &Interactions, test: &[Vec<u32>], k: usize) -> EvalReport {
    rank_and_score(test, k, |u, scores| {
        let seen = &train.by_user[u];
        model.scores(seen, Some(u as u32), scores);
        model.top_k(scores, k, |i| seen.binary_search(&i).is_ok()).into_iter().map(|(i, _)| i).collect()
    })
}

/// As [`evaluate`], for a model fitted on other data: items are matched by id,
/// and the model ranks from each user's `train` history.
pub fn evaluate_mapped(model: &Recommender, train: &Interactions, test: &[Vec<u32>], k: usize) -> EvalReport {
    rank_and_score(test, k, |u, scores| {
        let mut seen: Vec<u32> =
            train.by_user[u].iter().filter_map(|&i| model.item_index(&train.items[i as usize])).collect();
        seen.sort_unstable();
        let known = model.user_index(&train.users[u]);
        model.scores(&seen, known, scores);
        model
            .top_k(scores, k, |i| seen.binary_search(&i).is_ok())
            .into_iter()
            .filter_map(|(i, _)| train.item(&model.items()[i as usize]))
            .collect()
    })
}

fn rank_and_score(test: &[Vec<u32>], k: usize, rank: impl Fn(usize, &mut Vec<f32>) -> Vec<u32> + Sync) -> EvalReport {
    let ranked: Vec<Option<Vec<u32>>> = test
        .par_iter()
        .enumerate()
        .map_init(Vec::new, |scores, (u, relevant)| (!relevant.is_empty()).then(|| rank(u, scores)))
        .collect();
    let mut totals = RankingTotals::default();
    let mut per_user_ndcg = Vec::new();
    for (ranked, relevant) in ranked.iter().zip(test) {
        if let Some(ranked) = ranked {
            per_user_ndcg.extend(totals.add(ranked, relevant, k));
        }
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
