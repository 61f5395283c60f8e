//! Intake: a demand's category as given, or classified from its text by the
//! active model (the keyword rules when none is active), with low-confidence
//! demands flagged for review.

use serde::{Deserialize, Serialize};
use wantloop_core::Demand;
use wantloop_core::demand::{CategorySource, NewDemand};
use wantloop_core::values::Category;
use wantloop_match::rules;
use wantloop_store::{Classification, IdemKey, Outcome, StoreError};

use crate::Engine;

/// A text's category as the intake would assign it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClassifyResult {
    pub category: String,
    pub confidence: f64,
    /// `classifier v3` when a trained model answered, `rules` otherwise.
    pub source: String,
    /// The three most likely categories (model only).
    pub top: Vec<CategoryScore>,
    /// Whether the intake would send a demand with this text to review.
    pub needs_review: bool,
}

/// One candidate category and the model's probability for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryScore {
    pub category: String,
    pub probability: f64,
}

impl Engine {
    /// Classifies a text with the active model, or with the keyword rules when
    /// no model is active or the model's label is not a category slug.
    pub fn classify_text(&self, text: &str) -> ClassifyResult {
        let threshold = self.config.matching.review_threshold;
        if let Some(loaded) = self.classifier.get() {
            let p = loaded.model.predict(text);
            if Category::parse("category", &p.label).is_ok() {
                return ClassifyResult {
                    needs_review: p.confidence < threshold,
                    category: p.label,
                    confidence: p.confidence,
                    source: loaded.info.tag(),
                    top: p
                        .top
                        .into_iter()
                        .map(|(category, probability)| CategoryScore { category, probability })
                        .collect(),
                };
            }
        }
        let (category, confidence) = rules::classify(text);
        ClassifyResult {
            needs_review: confidence < threshold,
            category,
            confidence,
            source: "rules".into(),
            top: Vec::new(),
        }
    }

    /// The category of a new demand: as given, else classified (and flagged
    /// for review when the classifier is unsure).
    pub fn classify(&self, d: &NewDemand) -> Classification {
        match &d.category {
            Some(c) => Classification::given(c.as_str()),
            None => {
                let r = self.classify_text(d.text.as_str());
                Classification {
                    category: r.category,
                    source: CategorySource::Classified,
                    confidence: r.confidence,
                    model: Some(r.source),
                    needs_review: r.needs_review,
                }
            }
        }
    }

    pub async fn create_demand(&self, d: &NewDemand, idem: Option<&IdemKey>) -> Result<Outcome<Demand>, StoreError> {
        self.store.create_demand(d, &self.classify(d), idem).await
    }

    /// Classifies and posts many demands in one transaction (bulk import).
    pub async fn create_demands(&self, demands: &[NewDemand]) -> Result<Vec<Demand>, StoreError> {
        let classified: Vec<(NewDemand, Classification)> =
            demands.iter().map(|d| (d.clone(), self.classify(d))).collect();
        self.store.create_demands(&classified).await
    }
}
