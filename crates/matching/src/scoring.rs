//! What scores a pair: the transparent v1 weights, or a learned ranker from
//! the model registry. Both read the same [`FeatureScores`] and both explain
//! a score as a bias plus one contribution per feature that add up to it,
//! so a person sees why a match was proposed whichever scorer proposed it.

use std::sync::Arc;

use wantloop_core::{Explanation, FeatureScores, FeatureValues};
use wantloop_ml::ranker::Ranker;

use crate::score::Weights;

/// The market's signals about a pair besides the pair itself: what the loop
/// has learnt from outcomes and interactions.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Signals {
    pub provider_fulfil_rate: f64,
    pub provider_reject_rate: f64,
    pub affinity: f64,
    pub popularity: f64,
    pub offer_rating: f64,
    /// The demand's images against the offer's (see `FeatureScores::visual`).
    pub visual: f64,
}

/// Pseudo-outcomes and pseudo-ratings that smooth a newcomer's rates and
/// rating toward the prior, so one early outcome does not decide them.
const PRIOR_WEIGHT: f64 = 5.0;
/// A provider with no outcomes yet fulfils and fails this share each.
const PRIOR_RATE: f64 = 0.5;
/// The mean rating of a market without ratings.
pub const PRIOR_RATING: f64 = 3.5;

impl Signals {
    /// The one definition of the market's signals from its counts, shared
    /// by the engine and the replay (`wantloop simulate`): a provider's
    /// `fulfilled` and `failed` (rejected or expired) shares of its `total`
    /// matches, smoothed; the offer's popularity from its `interactions`;
    /// its mean rating (`rating_sum` over `ratings`) shrunk toward the
    /// market's `mean_rating`, over 5. Affinity is left at 0 for the caller.
    pub fn from_counts(
        (fulfilled, failed, total): (f64, f64, f64),
        interactions: f64,
        (rating_sum, ratings): (f64, f64),
        mean_rating: f64,
    ) -> Self {
        let smooth = |k: f64| (k + PRIOR_WEIGHT * PRIOR_RATE) / (total + PRIOR_WEIGHT);
        Self {
            provider_fulfil_rate: smooth(fulfilled),
            provider_reject_rate: smooth(failed),
            affinity: 0.0,
            popularity: (1.0 + interactions).ln(),
            offer_rating: (rating_sum + PRIOR_WEIGHT * mean_rating) / (ratings + PRIOR_WEIGHT) / 5.0,
            visual: 0.0,
        }
    }

    pub fn apply(&self, f: &mut FeatureScores) {
        f.provider_fulfil_rate = self.provider_fulfil_rate;
        f.provider_reject_rate = self.provider_reject_rate;
        f.affinity = self.affinity;
        f.popularity = self.popularity;
        f.offer_rating = self.offer_rating;
        f.visual = self.visual;
    }
}

#[derive(Debug, Clone)]
pub enum Scoring {
    Weights(Weights),
    /// A ranker trained on [`FeatureScores::NAMES`], with its registry id.
    Ranker {
        model: Arc<Ranker>,
        id: i64,
    },
}

impl Scoring {
    /// A ranker, if it reads exactly the features the matcher computes.
    pub fn ranker(model: Arc<Ranker>, id: i64) -> Result<Self, String> {
        if model.feature_names.iter().map(String::as_str).eq(FeatureScores::NAMES) {
            Ok(Self::Ranker { model, id })
        } else {
            Err(format!("the ranker reads {:?}, the matcher computes {:?}", model.feature_names, FeatureScores::NAMES))
        }
    }

    pub fn is_learned(&self) -> bool {
        matches!(self, Self::Ranker { .. })
    }

    pub fn score(&self, f: &FeatureScores) -> f64 {
        match self {
            Self::Weights(w) => w.score(f),
            Self::Ranker { model, .. } => model.score(&f.vector()),
        }
    }

    pub fn explain(&self, f: &FeatureScores) -> Explanation {
        match self {
            Self::Weights(w) => Explanation {
                model_id: None,
                bias: 0.0,
                contributions: FeatureValues {
                    text: w.text * f.text,
                    price: w.price * f.price,
                    distance: w.distance * f.distance,
                    freshness: w.freshness * f.freshness,
                    ..FeatureValues::default()
                },
            },
            Self::Ranker { model, id } => {
                let e = model.explain(&f.vector());
                let mut c = [0.0; FeatureScores::COUNT];
                c.copy_from_slice(&e.contributions);
                Explanation { model_id: Some(*id), bias: e.bias, contributions: FeatureValues::from_vector(&c) }
            }
        }
    }

    /// A score as the weight of an allocation edge, which must be positive:
    /// the v1 score itself (in [0, 1]); a learned score through the logistic
    /// function, which keeps its order.
    pub fn allocation_weight(&self, score: f64) -> f64 {
        match self {
            Self::Weights(_) => score,
            Self::Ranker { .. } => 1.0 / (1.0 + (-score).exp()),
        }
    }

    /// Puts the explanation in `f` and returns the score it adds up to.
    pub fn score_explained(&self, f: &mut FeatureScores) -> f64 {
        let e = self.explain(f);
        f.explanation = Some(e);
        e.bias + e.contributions.sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_explanation_adds_up_to_the_weighted_sum() {
        let s = Scoring::Weights(Weights::default());
        let mut f = FeatureScores {
            text: 0.8,
            price: 0.5,
            distance: 0.25,
            freshness: 1.0,
            affinity: 0.9,
            ..Default::default()
        };
        let plain = s.score(&f);
        let explained = s.score_explained(&mut f);
        assert!((plain - explained).abs() < 1e-12);
        let e = f.explanation.unwrap();
        assert_eq!((e.model_id, e.bias, e.contributions.affinity), (None, 0.0, 0.0));
        assert!((e.contributions.text - 0.45 * 0.8).abs() < 1e-12);
    }
}
