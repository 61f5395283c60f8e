//! Retraining: the classifier from every labelled example the store keeps
//! (its base data plus the operators' review labels), the recommender from the
//! store's interactions, the ranker from matches' outcomes, the assistant's
//! paraphrase scorer from the FAQ and the operators' answers. A run is due only when enough new evidence arrived or
//! the model is old, never sooner than a minimum interval after the last run,
//! and at most one run per kind is in flight in a process. A retrained model
//! is registered with its numbers and goes live only through the paired
//! held-out gate of [`gate`]; old versions are pruned by a retention rule.

mod classifier;
pub mod gate;
mod paraphrase;
mod ranker;
mod recommender;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wantloop_core::InteractionKind;
use wantloop_ml::classifier::TrainConfig;
use wantloop_store::{Activation, ModelInfo, ModelRetention, Store};

pub use classifier::{BASE_SOURCE_PREFIX, is_held_out, keep_as_base};
pub use gate::{Comparison, Decision};
pub use paraphrase::ParaphraseTraining;

use crate::{Engine, EngineError};

#[derive(Debug, Clone)]
pub struct RetrainConfig {
    /// Labelled examples to keep in the store as base data (added once; every
    /// classifier retrain trains on all the store keeps).
    pub base_file: Option<PathBuf>,
    /// Retrain at least this often (when there is data).
    pub every: Duration,
    /// …and as soon as this many new reviewed labels exist.
    pub min_new_labels: usize,
    /// How often the scheduler checks.
    pub check_every: Duration,
    /// No scheduled run sooner than this after the kind's last one.
    pub min_interval: Duration,
    /// Held-out examples (classifier) needed before a comparison decides.
    pub min_held_out_examples: usize,
    /// Held-out users (recommender) needed before a comparison decides.
    pub min_held_out_users: usize,
    /// Held-out demands (ranker) needed before a comparison decides.
    pub min_held_out_queries: usize,
    /// Held-out operator-answered questions (paraphrase scorer) needed before a comparison decides.
    pub min_held_out_questions: usize,
    /// Versions of each kind kept besides the active one and the one before it.
    pub keep_versions: u32,
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
            min_interval: Duration::from_secs(600),
            min_held_out_examples: 200,
            min_held_out_users: 50,
            min_held_out_queries: 30,
            min_held_out_questions: 30,
            keep_versions: 10,
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
    /// Why it was (not) activated, with the paired comparison's numbers.
    pub decision: Decision,
    /// Older versions deleted by the retention rule after this run.
    pub pruned: Vec<i64>,
    /// `accuracy` (classifier) or `ndcg@10` (recommender).
    pub metric: String,
    /// The new model's metric on the held-out data.
    pub score: f64,
    /// The previously active model's metric on the same held-out data.
    pub previous_score: Option<f64>,
    pub examples: usize,
}

/// The active model of a kind when a run starts: what the gate compares
/// with, and what activation expects to still be active at the end.
pub(crate) struct Active {
    pub info: Option<ModelInfo>,
}

impl Active {
    pub(crate) async fn of(store: &dyn Store, kind: &str) -> Result<Self, EngineError> {
        Ok(Self { info: store.active_model(kind).await? })
    }

    pub(crate) fn chosen_by_operator(&self) -> bool {
        self.info.as_ref().is_some_and(|m| m.activated_by.as_deref() != Some("retrain"))
    }
}

/// Registers nothing itself: activates `registered` if the gate said so and
/// the model active at the start still is (an operator's rollback meanwhile
/// wins), then prunes old versions.
pub(crate) async fn conclude(
    store: &dyn Store,
    config: &RetrainConfig,
    registered: ModelInfo,
    active: &Active,
    mut decision: Decision,
    scores: (&str, f64, Option<f64>, usize),
) -> Result<RetrainOutcome, EngineError> {
    let (metric, score, previous_score, examples) = scores;
    let mut model = registered;
    let mut activated = false;
    if decision.activate {
        let expected = active.info.as_ref().map(|m| m.id);
        match store.activate_model_as(model.id, &Activation::by_retrain(expected)).await? {
            Some(m) => {
                model = m;
                activated = true;
            }
            None => {
                decision.activate = false;
                decision.reason = format!("another model was activated while this one trained; {}", decision.reason);
            }
        }
    }
    // The newest version is always kept: it records how far the last run read,
    // which is what makes the next run not due.
    let keep = ModelRetention { keep_newest: config.keep_versions.max(1) };
    let pruned = store.prune_models(&model.kind, keep).await?;
    Ok(RetrainOutcome { model, activated, decision, pruned, metric: metric.into(), score, previous_score, examples })
}

/// The scheduler (leader-only): checks periodically and retrains each model
/// kind when due.
pub(crate) async fn scheduler(engine: Engine) {
    let config = engine.config.retrain.clone();
    let store = engine.store.clone();
    let mut tick = tokio::time::interval(config.check_every);
    loop {
        tick.tick().await;
        // Training writes (labels, the model, its activation) go through the
        // store fenced by this node's lease: a node that lost the lease
        // while training cannot activate what it trained.
        let Some(fenced) = engine.lead("retrain", config.check_every).await else { continue };
        match recommender::due(store.as_ref(), &config).await {
            Ok(true) => report("recommender", engine.retrain_recommender_through(fenced.as_ref(), "auto").await),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "recommender retraining check failed"),
        }
        match ranker::due(store.as_ref(), &config).await {
            Ok(true) => report("ranker", engine.retrain_ranker_through(fenced.as_ref()).await),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "ranker retraining check failed"),
        }
        match paraphrase::due(store.as_ref(), &config).await {
            Ok(true) => report("paraphrase", engine.retrain_paraphrase_through(fenced.as_ref()).await),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "paraphrase scorer retraining check failed"),
        }
        match classifier::due(store.as_ref(), &config).await {
            Ok(true) => report("classifier", engine.retrain_classifier_through(fenced.as_ref()).await),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "classifier retraining check failed"),
        }
    }
}

fn report(kind: &str, result: Result<RetrainOutcome, EngineError>) {
    match result {
        Ok(o) => tracing::info!(
            kind, model = %o.model.tag(), activated = o.activated, score = o.score,
            reason = %o.decision.reason, pruned = o.pruned.len(), "retrained"
        ),
        Err(EngineError::Busy(_)) => {}
        Err(e) => tracing::warn!(kind, error = %e, "retraining failed"),
    }
}

impl Engine {
    /// Retrains the classifier now (see `classifier.rs`) and serves the result
    /// if it was activated. One run at a time per process: a second caller
    /// gets [`EngineError::Busy`] instead of a second training.
    pub async fn retrain_classifier(&self) -> Result<RetrainOutcome, EngineError> {
        self.retrain_classifier_through(self.store.as_ref()).await
    }

    /// [`Engine::retrain_classifier`], writing through `store` (a fenced one
    /// when the scheduler runs it).
    async fn retrain_classifier_through(&self, store: &dyn Store) -> Result<RetrainOutcome, EngineError> {
        let _only = self
            .retraining
            .classifier
            .try_lock()
            .map_err(|_| EngineError::Busy("a classifier retrain is already running"))?;
        let started = std::time::Instant::now();
        let out = classifier::retrain(store, &self.config.retrain).await?;
        metrics::histogram!("wantloop_training_seconds", "kind" => "classifier")
            .record(started.elapsed().as_secs_f64());
        self.refresh_models().await?;
        Ok(out)
    }

    /// Retrains the recommender now with model kind `kind` (`auto`, `ease`, …;
    /// see `recommender.rs`) and serves the result if it was activated.
    pub async fn retrain_recommender(&self, kind: &str) -> Result<RetrainOutcome, EngineError> {
        self.retrain_recommender_through(self.store.as_ref(), kind).await
    }

    /// [`Engine::retrain_recommender`], writing through `store` (a fenced one
    /// when the scheduler runs it).
    async fn retrain_recommender_through(&self, store: &dyn Store, kind: &str) -> Result<RetrainOutcome, EngineError> {
        let _only = self
            .retraining
            .recommender
            .try_lock()
            .map_err(|_| EngineError::Busy("a recommender retrain is already running"))?;
        let started = std::time::Instant::now();
        let out = recommender::retrain(store, kind, &self.config.retrain).await?;
        metrics::histogram!("wantloop_training_seconds", "kind" => "recommender")
            .record(started.elapsed().as_secs_f64());
        self.refresh_models().await?;
        Ok(out)
    }
}

impl Engine {
    /// Retrains the ranker now from every match with an outcome (see
    /// `ranker.rs`) and serves it if it was activated.
    pub async fn retrain_ranker(&self) -> Result<RetrainOutcome, EngineError> {
        self.retrain_ranker_through(self.store.as_ref()).await
    }

    async fn retrain_ranker_through(&self, store: &dyn Store) -> Result<RetrainOutcome, EngineError> {
        let _only =
            self.retraining.ranker.try_lock().map_err(|_| EngineError::Busy("a ranker retrain is already running"))?;
        let started = std::time::Instant::now();
        let outcomes = self.outcomes().await?;
        let out = ranker::retrain(store, outcomes, self.config.matching.weights, &self.config.retrain).await?;
        metrics::histogram!("wantloop_training_seconds", "kind" => "ranker").record(started.elapsed().as_secs_f64());
        self.refresh_models().await?;
        Ok(out)
    }
}

/// One lock per model kind: held for a whole run.
#[derive(Default)]
pub(crate) struct RetrainLocks {
    classifier: tokio::sync::Mutex<()>,
    recommender: tokio::sync::Mutex<()>,
    ranker: tokio::sync::Mutex<()>,
    paraphrase: tokio::sync::Mutex<()>,
}

/// Whether the newest version of `kind` is older than `interval` (or there is none).
pub(crate) fn older_than(latest: Option<&ModelInfo>, interval: Duration) -> bool {
    latest.is_none_or(|m| wantloop_core::time::now_ms() - m.created_at >= interval.as_millis() as i64)
}

pub(crate) async fn latest(store: &dyn Store, kind: &str) -> Result<Option<ModelInfo>, EngineError> {
    Ok(store.list_models(Some(kind)).await?.into_iter().max_by_key(|m| m.id))
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

#[cfg(test)]
mod retrain_tests;
