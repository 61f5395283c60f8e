//! Retraining the demand classifier on every labelled example the store keeps.
//!
//! The held-out set is fixed by a hash of each example's text (one in ten), not
//! drawn per run: every classifier trained through the registry (`demo`,
//! `train classifier`, retrains) leaves those examples out, so the active model
//! and the new one are compared on texts neither was trained on, and the set
//! only grows as labels arrive.

use std::collections::HashMap;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use wantloop_ml::classifier::{self, Classifier, LabelledText};
use wantloop_store::{NewLabel, NewModel, Store};

use super::gate::{self, Incumbent};
use super::{Active, RetrainConfig, RetrainOutcome, latest, older_than};
use crate::EngineError;
use crate::models::CLASSIFIER;

/// Labels whose source starts with this are base data (a training file, the
/// demo), not new evidence: they never make a retrain due.
pub const BASE_SOURCE_PREFIX: &str = "base:";

/// Whether an example belongs to the fixed held-out set (about one in ten,
/// by a stable hash of its text).
pub fn is_held_out(text: &str) -> bool {
    let h = classifier::fingerprint(text.trim().as_bytes());
    u64::from_str_radix(&h, 16).is_ok_and(|h| h % 10 == 0)
}

/// Every example the store keeps, one per text (the newest label wins, so an
/// operator's correction replaces an older label), and the newest label id.
async fn store_examples(store: &dyn Store) -> Result<(Vec<LabelledText>, i64), EngineError> {
    let mut order: Vec<String> = Vec::new();
    let mut label_of: HashMap<String, String> = HashMap::new();
    let mut after = 0;
    loop {
        let batch = store.labels_after(after, 10_000).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        for l in batch {
            if label_of.insert(l.text.clone(), l.label).is_none() {
                order.push(l.text);
            }
        }
    }
    let examples = order
        .into_iter()
        .map(|text| {
            let label = label_of.remove(&text).unwrap_or_default();
            LabelledText { text, label }
        })
        .collect();
    Ok((examples, after))
}

/// Keeps labelled examples in the store as base data from `source` (e.g. a
/// file name or `demo`), skipping those it already keeps; returns how many
/// were new. A classifier registered beside them should be trained on the
/// part outside [`is_held_out`], so later retrains compare fairly with it.
pub async fn keep_as_base(store: &dyn Store, examples: &[LabelledText], source: &str) -> Result<u64, EngineError> {
    let source = format!("{BASE_SOURCE_PREFIX}{source}");
    let mut added = 0;
    for chunk in examples.chunks(5_000) {
        let labels: Vec<NewLabel> = chunk
            .iter()
            .map(|e| NewLabel { text: e.text.clone(), label: e.label.clone(), source: source.clone() })
            .collect();
        added += store.add_labels(&labels).await?;
    }
    Ok(added)
}

/// Keeps the configured base file's examples in the store (once: the store
/// skips examples it already has).
async fn keep_base_file(store: &dyn Store, config: &RetrainConfig) -> Result<(), EngineError> {
    let Some(path) = &config.base_file else { return Ok(()) };
    keep_as_base(store, &classifier::read_file(path)?, &path.display().to_string()).await?;
    Ok(())
}

/// Due when there is no classifier yet but labels exist, when `min_new_labels`
/// operator labels arrived since the last run, or when the newest version is
/// older than `every` and operator labels arrived at all; never sooner than
/// `min_interval` after the last run. A run resets the count whether or not
/// its model went live (it records how far it read).
pub(super) async fn due(store: &dyn Store, config: &RetrainConfig) -> Result<bool, EngineError> {
    let latest = latest(store, CLASSIFIER).await?;
    if !older_than(latest.as_ref(), config.min_interval) {
        return Ok(false);
    }
    let seen = latest.as_ref().and_then(|m| m.params["labels_up_to"].as_i64()).unwrap_or(0);
    let wanted = config.min_new_labels.max(1);
    let mut new = 0;
    let mut after = seen;
    // Counts operator labels past the last run, reading no further than needed.
    while new < wanted {
        let batch = store.labels_after(after, 1_000).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        new += batch.iter().filter(|l| !l.source.starts_with(BASE_SOURCE_PREFIX)).count();
    }
    Ok(match latest {
        None => after > 0,
        Some(m) => new >= wanted || (new > 0 && older_than(Some(&m), config.every)),
    })
}

/// Each held-out example scored 1 when the model gets its label right.
fn outcomes(model: &Classifier, held_out: &[LabelledText]) -> Vec<f64> {
    let labels = model.labels();
    held_out.iter().map(|e| f64::from(u8::from(labels.get(model.predict_index(&e.text)) == Some(&e.label)))).collect()
}

/// Trains on the store's examples outside the held-out set, compares with the
/// active model on the held-out set, registers, and activates through the gate.
pub(super) async fn retrain(store: &dyn Store, config: &RetrainConfig) -> Result<RetrainOutcome, EngineError> {
    keep_base_file(store, config).await?;
    let active = Active::of(store, CLASSIFIER).await?;
    let (examples, labels_up_to) = store_examples(store).await?;
    let data_hash = classifier::fingerprint(
        examples
            .iter()
            .flat_map(|e| [e.text.as_bytes(), b"\t", e.label.as_bytes(), b"\n"].concat())
            .collect::<Vec<u8>>()
            .as_slice(),
    );
    let n = examples.len();
    let (held_out, mut train): (Vec<LabelledText>, Vec<LabelledText>) =
        examples.into_iter().partition(|e| is_held_out(&e.text));
    if train.len() < 10 {
        return Err(EngineError::Training(format!(
            "only {} labelled examples outside the held-out set; need at least 10 to train",
            train.len()
        )));
    }
    // A seeded tenth of the training part picks the best epoch.
    train.shuffle(&mut StdRng::seed_from_u64(config.train.seed));
    let dev: Vec<LabelledText> =
        if train.len() >= 100 { train.drain(..train.len() / 10).collect() } else { Vec::new() };
    let old_blob = match &active.info {
        Some(info) => Some(store.model_blob(info.id).await?),
        None => None,
    };
    let train_cfg = config.train.clone();
    let (model, report, metrics, new_scores, old_scores) = tokio::task::spawn_blocking(move || {
        let dev = (!dev.is_empty()).then_some(dev.as_slice());
        let (model, report) = classifier::train(&train, dev, &train_cfg, &mut |_, _| {})?;
        let (metrics, _) = model.evaluate(&held_out);
        let new_scores = outcomes(&model, &held_out);
        // An unreadable active model is no bar to replacing it.
        let old_scores = old_blob.and_then(|b| Classifier::from_bytes(&b).ok()).map(|old| outcomes(&old, &held_out));
        Ok::<_, classifier::ClassifierError>((model, report, metrics, new_scores, old_scores))
    })
    .await
    .map_err(|e| EngineError::Training(e.to_string()))??;

    let mean = |s: &[f64]| if s.is_empty() { 0.0 } else { s.iter().sum::<f64>() / s.len() as f64 };
    let previous = old_scores.as_deref().map(mean);
    let incumbent = active
        .info
        .as_ref()
        .map(|_| Incumbent { scores: old_scores.as_deref(), chosen_by_operator: active.chosen_by_operator() });
    let decision = gate::decide(&new_scores, incumbent, config.min_held_out_examples);
    let registered = store
        .register_model(&NewModel {
            kind: CLASSIFIER.into(),
            data_hash,
            metrics: serde_json::json!({
                "accuracy": metrics.accuracy,
                "macro_f1": metrics.macro_f1,
                "held_out": new_scores.len(),
                "protocol": "the store's fixed held-out tenth (by a hash of the text), never trained on",
                "previous_accuracy": previous,
                "dev_accuracy": report.dev_accuracy,
                "decision": decision,
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
    super::conclude(store, config, registered, &active, decision, ("accuracy", metrics.accuracy, previous, n)).await
}
