//! The assistant's paraphrase scorer, trained on pairs from the FAQ itself
//! (phrasings of one entry against each other and against the closest other
//! entries'), the operators' answers to questions it could not answer, and
//! any labelled pair file given. Two ways in:
//! - `train_paraphrase` (`wantloop train paraphrase`): on everything, made
//!   active only when asked: trained on an FAQ's own phrasings alone it
//!   ranked worse than the lexical confidence on the demo's validation
//!   questions (`wantloop eval ask`), so serving one is the operator's choice;
//! - `retrain_paraphrase` (scheduled, or `POST /v1/models/retrain?kind=paraphrase`):
//!   judged on the questions operators answered last and on one phrasing of
//!   each entry, against what serves, and activated through the models' gate.

use std::collections::HashSet;

use wantloop_ml::classifier::fingerprint;
use wantloop_ml::paraphrase::{LabelledPair, ParaphraseScorer, ScorerConfig, ScorerTrainReport, train};
use wantloop_store::{FaqEntry, ModelInfo, NewModel, Store};

use super::gate::{self, Incumbent};
use super::{Active, RetrainConfig, RetrainOutcome};
use crate::ask::{FaqState, LEXICAL_THRESHOLD, answer_pairs, faq_answer, faq_pairs};
use crate::faq::MAX_FAQ_ENTRIES;
use crate::models::PARAPHRASE;
use crate::{Engine, EngineError};

/// What a training run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ParaphraseTraining {
    pub model: ModelInfo,
    pub report: ScorerTrainReport,
    pub faq_pairs: usize,
    pub operator_pairs: usize,
    pub extra_pairs: usize,
    pub activated: bool,
}

impl Engine {
    /// Trains a scorer on everything (the FAQ's pairs, the operators'
    /// answers, `extra`) and registers it; active only under `activate`.
    pub async fn train_paraphrase(
        &self,
        extra: Vec<LabelledPair>,
        activate: bool,
    ) -> Result<ParaphraseTraining, EngineError> {
        let entries = self.store.faq_entries(0, MAX_FAQ_ENTRIES as u32).await?;
        let answered_questions = self.answered_questions().await?;
        let answered = answered_questions.len();
        let operator = answer_pairs(&answered_questions, &entries);
        let (operator_count, extra_count) = (operator.len(), extra.len());
        let (scorer, report, faq_count) = tokio::task::spawn_blocking(move || {
            let own = faq_pairs(&entries);
            let faq_count = own.len();
            let pairs: Vec<LabelledPair> = own.into_iter().chain(operator).chain(extra).collect();
            train(&pairs, &ScorerConfig::default()).map(|(s, r)| (s, r, faq_count))
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))?
        .map_err(|e| EngineError::Training(e.to_string()))?;
        let blob = scorer.to_bytes();
        let registered = self
            .store
            .register_model(&NewModel {
                kind: PARAPHRASE.into(),
                data_hash: fingerprint(&blob),
                metrics: serde_json::json!({
                    "out_of_fold_accuracy": report.out_of_fold_accuracy,
                    "protocol": "5 folds of connected question groups; threshold chosen on the out-of-fold scores",
                }),
                params: serde_json::json!({
                    "config": ScorerConfig::default(), "threshold": report.threshold, "pairs": report.pairs,
                    "faq_pairs": faq_count, "operator_pairs": operator_count, "extra_pairs": extra_count,
                    "answered": answered,
                }),
                blob,
            })
            .await?;
        let activated = activate;
        let model = if activated {
            self.activate_model(registered.id, None).await?.done().unwrap_or(registered)
        } else {
            registered
        };
        Ok(ParaphraseTraining {
            model,
            report,
            faq_pairs: faq_count,
            operator_pairs: operator_count,
            extra_pairs: extra_count,
            activated,
        })
    }
}

/// Operator answers that make a scorer due at once.
const NEW_ANSWERS: u64 = 50;
/// Questions operators answered before the scheduler trains a scorer at all
/// (and at least five times `min_held_out_questions`).
const MIN_ANSWERS: u64 = 30;

/// Due when operators answered enough questions for the gate to compare
/// (five times its held-out minimum, and 30), some the latest scorer did
/// not see, and it is older than `every`, or 50 are new; never sooner than
/// `min_interval`. Counted in the store, not read.
pub(super) async fn due(store: &dyn Store, config: &RetrainConfig) -> Result<bool, EngineError> {
    let latest = super::latest(store, PARAPHRASE).await?;
    if !super::older_than(latest.as_ref(), config.min_interval) {
        return Ok(false);
    }
    let answered = store.count_answered_questions().await?;
    let seen = latest.as_ref().and_then(|m| m.params["answered"].as_u64()).unwrap_or(0);
    let new = answered.saturating_sub(seen);
    // Fewer answers than five times the held-out minimum train scorers the
    // gate can never compare.
    let enough = answered >= MIN_ANSWERS && (answered / 5) as usize >= config.min_held_out_questions;
    Ok(enough && new > 0 && (super::older_than(latest.as_ref(), config.every) || new >= NEW_ANSWERS))
}

/// The phrasings held out as a guard against regressing on paraphrases of
/// the entries (kept questions are only those what served was unsure of):
/// of each entry with three phrasings or more that no operator's answer
/// (`asked`) added, the second of those.
fn guard_phrasings<'a>(entries: &'a [FaqEntry], asked: &HashSet<String>) -> Vec<(&'a str, &'a FaqEntry)> {
    entries
        .iter()
        .filter_map(|e| {
            let own: Vec<&String> = e.questions.iter().filter(|q| !asked.contains(q.trim())).collect();
            (own.len() >= 3).then(|| (own[1].as_str(), e))
        })
        .collect()
}

/// A held-out question and the entry that answers it (`None`: refuse).
struct Case {
    question: String,
    lang: String,
    expect: Option<i64>,
}

impl Engine {
    /// Retrains the paraphrase scorer and activates it through the gate:
    /// the newest fifth of the questions operators answered is held out
    /// (and taken out of the FAQ's phrasings and the training pairs); the
    /// new scorer and what serves now — the active scorer, or the lexical
    /// confidence — answer each one from that FAQ, and a question is right
    /// when answered with the operator's entry, or refused when none
    /// answers it. The paired per-question difference decides, as for the
    /// other models. Kept questions are only those what served was unsure
    /// of, so one phrasing of each entry with three or more is held out
    /// too, a guard against regressing on paraphrases of the entries: a
    /// scorer worse on those beyond noise is not activated. The scorer
    /// activated is the one judged, so it never trains on those phrasings.
    /// One run at a time per process.
    pub async fn retrain_paraphrase(&self) -> Result<RetrainOutcome, EngineError> {
        self.retrain_paraphrase_through(self.store.as_ref()).await
    }

    pub(super) async fn retrain_paraphrase_through(&self, store: &dyn Store) -> Result<RetrainOutcome, EngineError> {
        let _only = self
            .retraining
            .paraphrase
            .try_lock()
            .map_err(|_| EngineError::Busy("a paraphrase scorer retrain is already running"))?;
        let started = std::time::Instant::now();
        let config = &self.config.retrain;
        let entries = store.faq_entries(0, MAX_FAQ_ENTRIES as u32).await?;
        let mut answered = self.answered_questions().await?;
        let answered_total = answered.len();
        // Every answered question's text, before any is left out below.
        let asked: HashSet<String> = answered.iter().map(|q| q.question.trim().to_string()).collect();
        // A question answered with an entry deleted since can be judged by
        // no one; it stays out of both sides.
        let live: HashSet<i64> = entries.iter().map(|e| e.id).collect();
        answered.retain(|q| q.chosen_entry.is_none_or(|e| live.contains(&e)));
        answered.sort_by_key(|q| (q.resolved_at, q.id));
        let n = answered.len();
        let held = answered.split_off(n - n / 5);
        let active = Active::of(store, PARAPHRASE).await?;
        let old = match &active.info {
            Some(info) => ParaphraseScorer::from_bytes(&store.model_blob(info.id).await?).ok(),
            None => None,
        };
        let serves_lexical = old.is_none();
        let previous = if serves_lexical { "the lexical confidence" } else { "the active scorer" };
        let synonyms = self.search.synonyms();
        let case = |question: &str, lang: &str, expect: Option<i64>| Case {
            question: question.to_string(),
            lang: lang.to_string(),
            expect,
        };
        let served = |lang: &str| self.paraphrase_serves(lang);
        let answers: Vec<Case> =
            held.iter().filter(|q| served(&q.lang)).map(|q| case(&q.question, &q.lang, q.chosen_entry)).collect();
        let phrasings: Vec<Case> = guard_phrasings(&entries, &asked)
            .into_iter()
            .filter(|(_, e)| served(&e.lang))
            .map(|(q, e)| case(q, &e.lang, Some(e.id)))
            .collect();
        let judged = tokio::task::spawn_blocking(move || {
            let out: HashSet<String> =
                answers.iter().chain(&phrasings).map(|c| c.question.trim().to_string()).collect();
            let without: Vec<FaqEntry> = entries
                .into_iter()
                .map(|mut e| {
                    e.questions.retain(|p| !out.contains(p.trim()));
                    e
                })
                .collect();
            answered.retain(|q| !out.contains(q.question.trim()));
            let own = faq_pairs(&without);
            let operator = answer_pairs(&answered, &without);
            let counts = (own.len(), operator.len());
            let pairs: Vec<LabelledPair> = own.into_iter().chain(operator).collect();
            let (scorer, report) = train(&pairs, &ScorerConfig::default())?;
            let faq = FaqState::build(0, without);
            let judge = |cases: &[Case], s: Option<&ParaphraseScorer>, threshold: f64| -> Vec<f64> {
                let right = |c: &Case| faq_answer(&faq, &c.question, &synonyms, &c.lang, s, threshold) == c.expect;
                cases.iter().map(|c| f64::from(u8::from(right(c)))).collect()
            };
            let both = |cases: &[Case]| {
                let new = judge(cases, Some(&scorer), scorer.threshold());
                let old = match &old {
                    Some(o) => judge(cases, Some(o), o.threshold()),
                    None => judge(cases, None, LEXICAL_THRESHOLD),
                };
                (new, old)
            };
            let (answer_scores, phrasing_scores) = (both(&answers), both(&phrasings));
            Ok::<_, wantloop_ml::paraphrase::ParaphraseError>((scorer, report, answer_scores, phrasing_scores, counts))
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))?
        .map_err(|e| EngineError::Training(e.to_string()))?;
        let (scorer, report, (new_scores, old_scores), (new_phrasings, old_phrasings), (faq_count, operator_count)) =
            judged;
        let incumbent = Incumbent { scores: Some(&old_scores), chosen_by_operator: active.chosen_by_operator() };
        // Without an active scorer the lexical confidence serves, and it
        // measured better than a scorer trained on the FAQ alone (README,
        // "Assistant"): a scorer replaces it only when better beyond noise.
        let default = serves_lexical.then_some(previous);
        let mut decision = gate::decide_against(&new_scores, Some(incumbent), config.min_held_out_questions, default);
        // …and never at the cost of the paraphrases of the entries.
        let on_phrasings = gate::Comparison::paired(&new_phrasings, &old_phrasings);
        gate::guard(&mut decision, &on_phrasings, config.min_held_out_questions, "the FAQ's held-out phrasings");
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let (score, previous_score) = (mean(&new_scores), mean(&old_scores));
        let blob = scorer.to_bytes();
        let registered = store
            .register_model(&NewModel {
                kind: PARAPHRASE.into(),
                data_hash: fingerprint(&blob),
                metrics: serde_json::json!({
                    "accuracy": score, "previous_accuracy": previous_score, "previous": previous,
                    "held_out_questions": new_scores.len(), "decision": decision,
                    "phrasing_accuracy": mean(&new_phrasings), "previous_phrasing_accuracy": mean(&old_phrasings),
                    "held_out_phrasings": new_phrasings.len(), "phrasing_comparison": on_phrasings,
                    "out_of_fold_accuracy": report.out_of_fold_accuracy,
                    "protocol": "the newest 20% of the questions operators answered held out, and one phrasing of each entry with three or more; all taken out of the FAQ; right = answered with the operator's (or the phrasing's) entry, or refused when none answers it; activated when the gate passes on the answers and the phrasings are no worse beyond noise",
                }),
                params: serde_json::json!({
                    "config": ScorerConfig::default(), "threshold": report.threshold, "pairs": report.pairs,
                    "faq_pairs": faq_count, "operator_pairs": operator_count, "answered": answered_total,
                }),
                blob,
            })
            .await?;
        let scores = ("accuracy", score, Some(previous_score), report.pairs);
        let out = super::conclude(store, config, registered, &active, decision, scores).await?;
        metrics::histogram!("wantloop_training_seconds", "kind" => "paraphrase")
            .record(started.elapsed().as_secs_f64());
        self.refresh_models().await?;
        Ok(out)
    }
}
