//! Retraining the classifier from the base training file plus the labels
//! operators recorded in the review queue. The new model is registered with
//! its metrics and activated only if it is not worse than the active model on
//! the same held-out slice.

use std::path::PathBuf;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use wantloop_core::InteractionKind;
use wantloop_core::time::now_ms;
use wantloop_ml::classifier::{self, Classifier, LabelledText, TrainConfig};
use wantloop_store::{ModelInfo, NewModel, Store};

use crate::models::{CLASSIFIER, RECOMMENDER};
use crate::{Engine, EngineError};

#[derive(Debug, Clone)]
pub struct RetrainConfig {
    /// Labelled examples every model is trained on, beside the store's labels.
    pub base_file: Option<PathBuf>,
    /// Retrain at least this often (when there is data).
    pub every: Duration,
    /// …and as soon as this many new reviewed labels exist.
    pub min_new_labels: usize,
    /// How often the scheduler checks.
    pub check_every: Duration,
    pub train: TrainConfig,
    /// Weight of each interaction kind for the recommender. The current models
    /// treat evidence as binary: a kind with weight 0 is left out of training.
    pub interaction_weights: InteractionWeights,
}

/// Weights of interaction kinds, e.g. parsed from `view=0,click=1,accept=4`.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionWeights(pub std::collections::BTreeMap<InteractionKind, f64>);

impl Default for InteractionWeights {
    fn default() -> Self {
        Self(InteractionKind::ALL.into_iter().map(|k| (k, k.default_weight())).collect())
    }
}

impl InteractionWeights {
    pub fn weight(&self, kind: InteractionKind) -> f64 {
        self.0.get(&kind).copied().unwrap_or_else(|| kind.default_weight())
    }

    /// Parses `kind=weight` pairs separated by commas; unnamed kinds keep their defaults.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut w = Self::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| format!("{part:?} is not kind=weight"))?;
            let kind = InteractionKind::parse("kind", k.trim()).map_err(|e| e.to_string())?;
            let v: f64 = v
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| format!("{part:?}: the weight must be a number ≥ 0"))?;
            w.0.insert(kind, v);
        }
        Ok(w)
    }
}

impl Default for RetrainConfig {
    fn default() -> Self {
        Self {
            base_file: None,
            every: Duration::from_secs(24 * 3600),
            min_new_labels: 100,
            check_every: Duration::from_secs(300),
            train: TrainConfig::default(),
            interaction_weights: InteractionWeights::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetrainOutcome {
    pub model: ModelInfo,
    pub activated: bool,
    /// `accuracy` (classifier) or `ndcg@10` (recommender).
    pub metric: String,
    /// The new model's metric on the held-out data.
    pub score: f64,
    /// The previously active model's metric on the same held-out data.
    pub previous_score: Option<f64>,
    pub examples: usize,
}

/// All store labels, oldest first, and the id of the newest.
async fn store_labels(store: &dyn Store) -> Result<(Vec<LabelledText>, i64), EngineError> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let batch = store.labels_after(after, 10_000).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        out.extend(batch.into_iter().map(|l| LabelledText { text: l.text, label: l.label }));
    }
    Ok((out, after))
}

/// Activates a newly registered model unless the active one scored better on
/// the same held-out data, and reports what happened.
async fn activate_if_not_worse(
    store: &dyn Store,
    registered: ModelInfo,
    metric: &str,
    score: f64,
    previous_score: Option<f64>,
    examples: usize,
) -> Result<RetrainOutcome, EngineError> {
    let activated = previous_score.is_none_or(|p| score >= p);
    let model = if activated {
        store.activate_model(registered.id, None).await?.done().unwrap_or(registered)
    } else {
        registered
    };
    Ok(RetrainOutcome { model, activated, metric: metric.into(), score, previous_score, examples })
}

/// Whether the scheduler should retrain now.
async fn due(store: &dyn Store, config: &RetrainConfig) -> Result<bool, EngineError> {
    let latest = store.list_models(Some(CLASSIFIER)).await?.into_iter().max_by_key(|m| m.id);
    let seen = latest.as_ref().and_then(|m| m.params["labels_up_to"].as_i64()).unwrap_or(0);
    let new_labels = store.labels_after(seen, config.min_new_labels as u32).await?.len();
    let has_data = config.base_file.is_some() || new_labels > 0 || seen > 0;
    let stale = latest.is_none_or(|m| now_ms() - m.created_at >= config.every.as_millis() as i64);
    Ok(has_data && (stale || new_labels >= config.min_new_labels.max(1)))
}

/// Trains, evaluates against the active model on a held-out slice (10%,
/// seeded), registers, and activates if not worse.
async fn retrain_classifier(store: &dyn Store, config: &RetrainConfig) -> Result<RetrainOutcome, EngineError> {
    let mut examples = match &config.base_file {
        Some(p) => classifier::read_file(p)?,
        None => Vec::new(),
    };
    let (labels, labels_up_to) = store_labels(store).await?;
    examples.extend(labels);
    let data_hash = classifier::fingerprint(
        examples
            .iter()
            .flat_map(|e| [e.text.as_bytes(), b"\t", e.label.as_bytes(), b"\n"])
            .flatten()
            .copied()
            .collect::<Vec<u8>>()
            .as_slice(),
    );
    let mut rng = StdRng::seed_from_u64(config.train.seed);
    examples.shuffle(&mut rng);
    let n = examples.len();
    let held = (n / 10).max(1);
    if n < 3 * held || n < 10 {
        return Err(EngineError::Training(format!(
            "only {n} labelled examples; need at least 10 to train and evaluate"
        )));
    }
    let eval: Vec<LabelledText> = examples.drain(..held).collect();
    let dev: Vec<LabelledText> = examples.drain(..held).collect();
    let train_cfg = config.train.clone();
    let train_set = examples;
    let eval_for_new = eval.clone();
    let (model, report, metrics) = tokio::task::spawn_blocking(move || {
        let (model, report) = classifier::train(&train_set, Some(&dev), &train_cfg, &mut |_, _| {})?;
        let (metrics, _) = model.evaluate(&eval_for_new);
        Ok::<_, classifier::ClassifierError>((model, report, metrics))
    })
    .await
    .map_err(|e| EngineError::Training(e.to_string()))??;

    let previous = match store.active_model(CLASSIFIER).await? {
        Some(info) => {
            let bytes = store.model_blob(info.id).await?;
            let eval = eval.clone();
            let acc = tokio::task::spawn_blocking(move || {
                Classifier::from_bytes(&bytes).map(|m| m.evaluate(&eval).0.accuracy)
            })
            .await
            .map_err(|e| EngineError::Training(e.to_string()))?;
            // An unreadable active model is no bar to replacing it.
            acc.ok()
        }
        None => None,
    };
    let registered = store
        .register_model(&NewModel {
            kind: CLASSIFIER.into(),
            data_hash,
            metrics: serde_json::json!({
                "accuracy": metrics.accuracy,
                "macro_f1": metrics.macro_f1,
                "protocol": "10% seeded held-out slice of base file + store labels",
                "previous_accuracy": previous,
                "dev_accuracy": report.dev_accuracy,
            }),
            params: serde_json::json!({
                "train": config.train,
                "examples": report.examples,
                "labels": model.labels(),
                "labels_up_to": labels_up_to,
                "seconds": report.seconds,
                "trigger": "retrain",
            }),
            blob: model.to_bytes(),
        })
        .await?;
    activate_if_not_worse(store, registered, "accuracy", metrics.accuracy, previous, n).await
}

/// Whether the recommender should be retrained: interactions exist and the
/// latest model is older than `every`, or 1,000 interactions arrived since.
async fn recommender_due(store: &dyn Store, config: &RetrainConfig) -> Result<bool, EngineError> {
    let latest = store.list_models(Some(RECOMMENDER)).await?.into_iter().max_by_key(|m| m.id);
    let seen = latest.as_ref().and_then(|m| m.params["interactions_up_to"].as_i64()).unwrap_or(0);
    let new = store.interactions_after(seen, 1_000).await?.len();
    let stale = latest.is_none_or(|m| now_ms() - m.created_at >= config.every.as_millis() as i64);
    Ok(new > 0 && (stale || new >= 1_000))
}

/// The scheduler (leader-only): checks periodically and retrains each model
/// kind when due.
pub(crate) async fn scheduler(engine: Engine) {
    let config = engine.config.retrain.clone();
    let store = engine.store.clone();
    let mut tick = tokio::time::interval(config.check_every);
    loop {
        tick.tick().await;
        if !engine.lead("retrain", config.check_every).await {
            continue;
        }
        match recommender_due(store.as_ref(), &config).await {
            Ok(true) => match engine.retrain_recommender("auto").await {
                Ok(o) => {
                    tracing::info!(model = %o.model.tag(), activated = o.activated, score = o.score, "recommender retrained")
                }
                Err(e) => tracing::warn!(error = %e, "recommender retraining failed"),
            },
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "recommender retraining check failed"),
        }
        match due(store.as_ref(), &config).await {
            Ok(true) => match engine.retrain_classifier().await {
                Ok(o) => {
                    tracing::info!(model = %o.model.tag(), activated = o.activated, score = o.score, "classifier retrained")
                }
                Err(e) => tracing::warn!(error = %e, "classifier retraining failed"),
            },
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "retraining check failed"),
        }
    }
}

impl Engine {
    /// Retrains the classifier now (see [`retrain_classifier`]) and serves the
    /// result if it was activated.
    pub async fn retrain_classifier(&self) -> Result<RetrainOutcome, EngineError> {
        let out = retrain_classifier(self.store.as_ref(), &self.config.retrain).await?;
        self.refresh_models().await?;
        Ok(out)
    }

    /// Retrains the recommender now with model kind `kind` (`auto`, `ease`, …;
    /// see [`retrain_recommender`]) and serves the result if it was activated.
    pub async fn retrain_recommender(&self, kind: &str) -> Result<RetrainOutcome, EngineError> {
        let r = &self.config.retrain;
        let out = retrain_recommender(self.store.as_ref(), kind, r.train.seed, &r.interaction_weights).await?;
        self.refresh_models().await?;
        Ok(out)
    }
}

/// Trains a recommender on the store's interactions: 20% of each user's items
/// (seeded) are held out; the model kind (`auto`: EASE up to 8,000 items, else
/// ALS) is tuned on a further split of the rest, fitted on the rest, scored on
/// the held-out items, registered, and activated only if it is not worse than
/// the active recommender on the same held-out items.
async fn retrain_recommender(
    store: &dyn Store,
    kind: &str,
    seed: u64,
    weights: &InteractionWeights,
) -> Result<RetrainOutcome, EngineError> {
    use wantloop_ml::recommender::{self, Recommender};
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
    let (train, held_out) = recommender::split_validation(&all, 0.2, seed);
    let kind = if kind == "auto" { recommender::auto_kind(train.n_items()) } else { kind };
    let (report, model, params) = tokio::task::block_in_place(|| {
        let (params, _, _) = recommender::tune(kind, &train, 10, seed)?;
        let model = Recommender::fit(&train, &params)?;
        let report = recommender::evaluate(&model, &train, &held_out, 10);
        Ok::<_, recommender::RecommenderError>((report, model, params))
    })
    .map_err(|e| EngineError::Training(e.to_string()))?;
    let previous = match store.active_model(RECOMMENDER).await? {
        Some(info) => {
            let bytes = store.model_blob(info.id).await?;
            Recommender::from_bytes(&bytes).ok().map(|m| recommender::evaluate_mapped(&m, &train, &held_out, 10).ndcg)
        }
        None => None,
    };
    let registered = store
        .register_model(&NewModel {
            kind: RECOMMENDER.into(),
            data_hash: classifier::fingerprint(format!("{pairs:?}").as_bytes()),
            metrics: serde_json::json!({
                "ndcg@10": report.ndcg, "precision@10": report.precision, "recall@10": report.recall,
                "users": report.users, "previous_ndcg@10": previous,
                "protocol": "20% of each user's interacted offers held out (seeded)",
            }),
            params: serde_json::json!({
                "model": params, "interactions": all.len(), "users": all.n_users(), "items": all.n_items(),
                "interactions_up_to": after, "seed": seed,
            }),
            blob: model.to_bytes(),
        })
        .await?;
    activate_if_not_worse(store, registered, "ndcg@10", report.ndcg, previous, all.len()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interaction_weights_parse_and_default() {
        let w = InteractionWeights::parse("view=0, click=3").unwrap();
        assert_eq!(w.weight(InteractionKind::View), 0.0);
        assert_eq!(w.weight(InteractionKind::Click), 3.0);
        assert_eq!(w.weight(InteractionKind::Fulfil), InteractionKind::Fulfil.default_weight());
        assert!(InteractionWeights::parse("view").is_err());
        assert!(InteractionWeights::parse("hover=1").is_err());
        assert!(InteractionWeights::parse("view=-1").is_err());
        assert_eq!(InteractionWeights::parse("").unwrap(), InteractionWeights::default());
    }
}
