//! Retraining the ranker from outcomes (`outcomes.rs`): the newest fifth of
//! the demands with outcomes is held out (a time slice: the model is judged
//! on what came after what it learnt from), LambdaMART is tuned and fitted
//! on the rest, and both it and what serves now — the active ranker, or the
//! v1 weights when there is none — rank each held-out demand's offers by the
//! features they were proposed with; the paired per-demand NDCG@10 decides
//! activation through the same gate as the other models.

use wantloop_core::FeatureScores;
use wantloop_match::{Scoring, Weights};
use wantloop_ml::classifier;
use wantloop_ml::ranker::{self, RankSet, Ranker};
use wantloop_store::{NewModel, Store};

use super::gate::{self, Incumbent};
use super::{Active, RetrainConfig, RetrainOutcome, latest, older_than};
use crate::EngineError;
use crate::models::RANKER;
use crate::outcomes::Outcomes;

/// Outcomes that make a ranker due at once.
const NEW_OUTCOMES: usize = 500;
/// Demands with outcomes needed before a ranker is trained at all.
const MIN_QUERIES: usize = 20;

/// Due when more matches have an outcome than the latest model saw and it
/// is older than `every`, or 500 more; never sooner than `min_interval`.
/// Counts from the store's per-status totals, not by reading the outcomes.
pub(super) async fn due(store: &dyn Store, config: &RetrainConfig) -> Result<bool, EngineError> {
    let latest = latest(store, RANKER).await?;
    if !older_than(latest.as_ref(), config.min_interval) {
        return Ok(false);
    }
    let stats = store.stats().await?;
    let decided: i64 = stats.matches.iter().filter(|(s, _)| s.as_str() != "proposed").map(|(_, n)| n).sum();
    let seen = latest.as_ref().and_then(|m| m.params["rows"].as_i64()).unwrap_or(0);
    let new = usize::try_from(decided - seen).unwrap_or(0);
    Ok(decided >= MIN_QUERIES as i64 && new > 0 && (older_than(latest.as_ref(), config.every) || new >= NEW_OUTCOMES))
}

/// Per held-out demand, NDCG@10 of ranking its rows by `score`.
fn per_query(set: &RankSet, score: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    ranker::rank_metrics(set, score).per_query_ndcg_10
}

pub(super) async fn retrain(
    store: &dyn Store,
    outcomes: Outcomes,
    weights: Weights,
    config: &RetrainConfig,
) -> Result<RetrainOutcome, EngineError> {
    let n = outcomes.queries.len();
    if n < MIN_QUERIES {
        return Err(EngineError::Training(format!(
            "only {n} demands with outcomes; a ranker needs at least {MIN_QUERIES}"
        )));
    }
    let active = Active::of(store, RANKER).await?;
    let old = match &active.info {
        Some(info) => Ranker::from_bytes(&store.model_blob(info.id).await?).ok(),
        None => None,
    };
    let cut = n - n / 5;
    let (train, held_out) = (outcomes.rank_set(0..cut), outcomes.rank_set(cut..n));
    let rows = outcomes.rows();
    let data_hash = classifier::fingerprint(format!("{:?}{:?}", train.labels, train.features).as_bytes());
    let (model, tuning, new_scores, old_scores) = tokio::task::spawn_blocking(move || {
        let tuning = ranker::tune(&train)?;
        let (model, _) = ranker::fit(&train, None, &tuning.chosen)?;
        let new_scores = per_query(&held_out, |x| model.score(x));
        let old_scores = match &old {
            Some(old) => per_query(&held_out, |x| old.score(x)),
            None => {
                let v1 = Scoring::Weights(weights);
                per_query(&held_out, |x| v1.score(&features_of(x)))
            }
        };
        Ok::<_, ranker::RankerError>((model, tuning, new_scores, old_scores))
    })
    .await
    .map_err(|e| EngineError::Training(e.to_string()))?
    .map_err(|e| EngineError::Training(e.to_string()))?;
    let incumbent = Incumbent { scores: Some(&old_scores), chosen_by_operator: active.chosen_by_operator() };
    let decision = gate::decide(&new_scores, Some(incumbent), config.min_held_out_queries);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (score, previous) = (mean(&new_scores), mean(&old_scores));
    let registered = store
        .register_model(&NewModel {
            kind: RANKER.into(),
            data_hash,
            metrics: serde_json::json!({
                "ndcg@10": score, "previous_ndcg@10": previous,
                "previous": if active.info.is_some() { "the active ranker" } else { "the v1 weights" },
                "held_out_demands": new_scores.len(), "decision": decision,
                "protocol": "the newest 20% of demands with outcomes held out; their offers ranked by the features they were proposed with",
            }),
            params: serde_json::json!({
                "model": model.params, "trees": model.n_trees(), "tuning_seconds": tuning.seconds,
                "demands": n, "rows": rows, "features": FeatureScores::NAMES,
            }),
            blob: model.to_bytes(),
        })
        .await?;
    super::conclude(store, config, registered, &active, decision, ("ndcg@10", score, Some(previous), rows)).await
}

/// A feature row back as the matcher's features (for the v1 weights).
fn features_of(x: &[f64]) -> FeatureScores {
    let v: [f64; FeatureScores::COUNT] = std::array::from_fn(|i| x.get(i).copied().unwrap_or(0.0));
    wantloop_core::FeatureValues::from_vector(&v).into()
}
