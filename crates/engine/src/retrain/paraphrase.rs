//! The assistant's paraphrase scorer, trained on pairs from the FAQ itself
//! (phrasings of one entry against each other and against the closest other
//! entries'), the operators' answers to questions it could not answer, and
//! any labelled pair file given. Registered with its out-of-fold numbers;
//! made active only when asked: trained on an FAQ's own phrasings alone it
//! ranked worse than the lexical confidence on the demo's validation
//! questions (`wantloop eval ask`), so serving one is the operator's choice.

use wantloop_ml::classifier::fingerprint;
use wantloop_ml::paraphrase::{LabelledPair, ScorerConfig, ScorerTrainReport, train};
use wantloop_store::{ModelInfo, NewModel};

use crate::ask::faq_pairs;
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
    pub async fn train_paraphrase(
        &self,
        extra: Vec<LabelledPair>,
        activate: bool,
    ) -> Result<ParaphraseTraining, EngineError> {
        let entries = self.store.faq_entries(0, MAX_FAQ_ENTRIES as u32).await?;
        let operator = self.operator_pairs().await?;
        let (faq_count, operator_count, extra_count) = (0, operator.len(), extra.len());
        let (scorer, report, faq_count) = tokio::task::spawn_blocking(move || {
            let own = faq_pairs(&entries);
            let faq_count = faq_count + own.len();
            let mut pairs = own;
            pairs.extend(operator);
            pairs.extend(extra);
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
