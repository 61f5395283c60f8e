//! Retraining the recommender on the store's interactions: 20% of each user's
//! items (seeded) are held out; the model kind (`auto`: every family compared
//! on validation within the tuning budget) is tuned on a further split of the rest, fitted on the
//! rest, and compared user by user (NDCG@10) with the active recommender on
//! the same held-out items. Training runs on a blocking thread, never on the
//! async runtime.

use wantloop_ml::classifier;
use wantloop_ml::recommender::{self, Recommender};
use wantloop_store::{NewModel, Store};

use super::gate::{self, Incumbent};
use super::{Active, RetrainConfig, RetrainOutcome, latest, older_than};
use crate::EngineError;
use crate::models::RECOMMENDER;

/// Interactions that make a stale recommender due at once.
const NEW_INTERACTIONS: usize = 1_000;

/// Due when interactions arrived since the last run and the latest model is
/// older than `every`, or 1,000 arrived since; never sooner than `min_interval`.
pub(super) async fn due(store: &dyn Store, config: &RetrainConfig) -> Result<bool, EngineError> {
    let latest = latest(store, RECOMMENDER).await?;
    if !older_than(latest.as_ref(), config.min_interval) {
        return Ok(false);
    }
    let seen = latest.as_ref().and_then(|m| m.params["interactions_up_to"].as_i64()).unwrap_or(0);
    let new = store.interactions_after(seen, NEW_INTERACTIONS as u32).await?.len();
    Ok(new > 0 && (older_than(latest.as_ref(), config.every) || new >= NEW_INTERACTIONS))
}

pub(super) async fn retrain(
    store: &dyn Store,
    kind: &str,
    config: &RetrainConfig,
) -> Result<RetrainOutcome, EngineError> {
    let (seed, weights) = (config.train.seed, &config.interaction_weights);
    let active = Active::of(store, RECOMMENDER).await?;
    let mut pairs = Vec::new();
    let mut after = 0;
    loop {
        let batch = store.interactions_after(after, 50_000).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        pairs.extend(
            batch.into_iter().filter(|i| weights.weight(i.kind) > 0.0).map(|i| (i.user, i.offer_id.to_string())),
        );
    }
    let all = recommender::from_pairs(&pairs);
    if all.len() < 10 || all.n_users() < 2 || all.n_items() < 2 {
        return Err(EngineError::Training(format!(
            "only {} distinct interactions of {} users with {} offers; need at least 10, 2 and 2",
            all.len(),
            all.n_users(),
            all.n_items()
        )));
    }
    let old_blob = match &active.info {
        Some(info) => Some(store.model_blob(info.id).await?),
        None => None,
    };
    let data_hash = classifier::fingerprint(format!("{pairs:?}").as_bytes());
    let kind = kind.to_string();
    let examples = all.len();
    let (n_users, n_items) = (all.n_users(), all.n_items());
    let (report, model, params, old_report) = tokio::task::spawn_blocking(move || {
        let (train, held_out) = recommender::split_validation(&all, 0.2, seed);
        let (params, _, _) = recommender::tune(&kind, &train, 10, seed)?;
        let model = Recommender::fit(&train, &params)?;
        let report = recommender::evaluate(&model, &train, &held_out, 10);
        let old_report = old_blob
            .and_then(|b| Recommender::from_bytes(&b).ok())
            .map(|old| recommender::evaluate_mapped(&old, &train, &held_out, 10));
        Ok::<_, recommender::RecommenderError>((report, model, params, old_report))
    })
    .await
    .map_err(|e| EngineError::Training(e.to_string()))?
    .map_err(|e| EngineError::Training(e.to_string()))?;
    let incumbent = active.info.as_ref().map(|_| Incumbent {
        scores: old_report.as_ref().map(|r| r.per_user_ndcg.as_slice()),
        chosen_by_operator: active.chosen_by_operator(),
    });
    let decision = gate::decide(&report.per_user_ndcg, incumbent, config.min_held_out_users);
    let previous = old_report.as_ref().map(|r| r.ndcg);
    let registered = store
        .register_model(&NewModel {
            kind: RECOMMENDER.into(),
            data_hash,
            metrics: serde_json::json!({
                "ndcg@10": report.ndcg, "precision@10": report.precision, "recall@10": report.recall,
                "users": report.users, "previous_ndcg@10": previous, "decision": decision,
                "protocol": "20% of each user's interacted offers held out (seeded)",
            }),
            params: serde_json::json!({
                "model": params, "interactions": examples, "users": n_users, "items": n_items,
                "interactions_up_to": after, "seed": seed,
            }),
            blob: model.to_bytes(),
        })
        .await?;
    super::conclude(store, config, registered, &active, decision, ("ndcg@10", report.ndcg, previous, examples)).await
}
