//! The v1 match score: a weighted sum of features in [0, 1], every one of
//! them reported with the match so a person can see why it was proposed. The
//! learned ranker replaces the weights, not the features' meaning.

use std::collections::{HashMap, HashSet};

use wantloop_core::time::DAY_MS;
use wantloop_core::{Demand, FeatureScores, GeoPoint, Offer};

use crate::scoring::{Scoring, Signals};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub text: f64,
    pub price: f64,
    pub distance: f64,
    pub freshness: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self { text: 0.45, price: 0.2, distance: 0.2, freshness: 0.15 }
    }
}

/// Scores offers for one demand; analyses the demand's text once.
pub struct Scorer<'a> {
    demand: &'a Demand,
    /// Analysed on first use: with the index's text scores it is never needed.
    demand_tokens: std::cell::OnceCell<HashSet<String>>,
    scoring: &'a Scoring,
    /// The market's signals per offer (none: all zero).
    signals: Option<&'a dyn Fn(&Offer) -> Signals>,
    now: i64,
    /// Text relevance per offer id from the search index (BM25 normalised per
    /// query); when present it replaces token overlap.
    text_scores: Option<&'a HashMap<i64, f64>>,
}

/// Text relevance of offers to one demand, in [0, 1], keyed by offer id.
pub type TextScores = HashMap<i64, f64>;

/// Freshness halves every week of an offer's age.
const FRESHNESS_HALF_LIFE_MS: f64 = 7.0 * DAY_MS as f64;

impl<'a> Scorer<'a> {
    pub fn new(demand: &'a Demand, scoring: &'a Scoring, now: i64) -> Self {
        Self { demand, demand_tokens: std::cell::OnceCell::new(), scoring, signals: None, now, text_scores: None }
    }

    /// Reads the market's signals of each offer from `signals`.
    pub fn with_signals(mut self, signals: Option<&'a dyn Fn(&Offer) -> Signals>) -> Self {
        self.signals = signals;
        self
    }

    /// The features of `o` with their explanation, and the score.
    pub fn scored(&self, o: &Offer) -> (f64, FeatureScores) {
        let mut f = self.features(o);
        let score = self.scoring.score_explained(&mut f);
        (score, f)
    }

    /// Uses the search index's relevance for the text feature.
    pub fn with_text_scores(mut self, scores: Option<&'a TextScores>) -> Self {
        self.text_scores = scores;
        self
    }

    pub fn features(&self, o: &Offer) -> FeatureScores {
        match self.text_scores {
            // The index's relevance replaces token overlap: no analysis needed.
            Some(_) => self.features_with_tokens(o, &HashSet::new()),
            None => self.features_with_tokens(o, &wantloop_text::token_set(&o.text)),
        }
    }

    /// As [`Scorer::features`], with the offer's tokens analysed by the caller
    /// (batch allocation analyses each offer once, not once per demand).
    pub fn features_with_tokens(&self, o: &Offer, offer_tokens: &HashSet<String>) -> FeatureScores {
        let text = match self.text_scores {
            Some(scores) => scores.get(&o.id).copied().unwrap_or(0.0),
            None => wantloop_text::overlap(
                self.demand_tokens.get_or_init(|| wantloop_text::token_set(&self.demand.text)),
                offer_tokens,
            ),
        };
        let mut f = pair_features(DemandTerms::from(self.demand), OfferTerms::from(o), text, self.now);
        f.category_confidence = self.demand.category_confidence;
        if let Some(signals) = self.signals {
            signals(o).apply(&mut f);
        }
        f
    }

    pub fn score(&self, f: &FeatureScores) -> f64 {
        self.scoring.score(f)
    }
}

impl Weights {
    /// The weighted sum of a pair's features.
    pub fn score(&self, f: &FeatureScores) -> f64 {
        self.text * f.text + self.price * f.price + self.distance * f.distance + self.freshness * f.freshness
    }
}

/// What the score reads of a demand besides its text. The search index's
/// columns carry it, so callers can rank candidates before reading rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemandTerms {
    pub budget: Option<i64>,
    pub location: Option<GeoPoint>,
    pub max_distance_km: Option<f64>,
}

impl From<&Demand> for DemandTerms {
    fn from(d: &Demand) -> Self {
        Self { budget: d.budget, location: d.location, max_distance_km: d.max_distance_km }
    }
}

/// What the score reads of an offer besides its text (see [`DemandTerms`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OfferTerms {
    pub price: i64,
    pub location: Option<GeoPoint>,
    pub created_at: i64,
}

impl From<&Offer> for OfferTerms {
    fn from(o: &Offer) -> Self {
        Self { price: o.price, location: o.location, created_at: o.created_at }
    }
}

/// A pair's features given its text relevance: the one definition the
/// scorer and the index-side ranking share, so both agree to the bit.
pub fn pair_features(d: DemandTerms, o: OfferTerms, text: f64, now: i64) -> FeatureScores {
    let price = match d.budget {
        Some(b) if b > 0 => (1.0 - o.price as f64 / b as f64).clamp(0.0, 1.0),
        Some(_) => f64::from(o.price == 0),
        None => 1.0 / (1.0 + o.price as f64 / 100_000.0),
    };
    let distance_km = d.location.zip(o.location).map(|(a, b)| a.distance_km(&b));
    let distance = match (distance_km, d.max_distance_km) {
        (Some(km), Some(max)) => (1.0 - km / max).clamp(0.0, 1.0),
        (Some(km), None) => 1.0 / (1.0 + km / 10.0),
        (None, _) => 0.5,
    };
    let age = (now - o.created_at).max(0) as f64;
    let freshness = 0.5f64.powf(age / FRESHNESS_HALF_LIFE_MS);
    FeatureScores { text, price, distance, freshness, distance_km, ..FeatureScores::default() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::{demand, offer};

    #[test]
    fn relevant_cheap_near_fresh_offers_score_higher() {
        let d = demand(1, "alice", Some(40_000));
        let v1 = Scoring::Weights(Weights::default());
        let s = Scorer::new(&d, &v1, 1_000);
        let good = offer(1, "bob", 10_000);
        let mut pricey = good.clone();
        pricey.price = 39_000;
        let mut stale = good.clone();
        stale.created_at = 1_000 - 30 * DAY_MS;
        let mut unrelated = good.clone();
        unrelated.text = "儿童绘本一套".into();
        let sg = s.score(&s.features(&good));
        assert!(sg > s.score(&s.features(&pricey)));
        assert!(sg > s.score(&s.features(&stale)));
        assert!(sg > s.score(&s.features(&unrelated)));
        let f = s.features(&good);
        assert!(f.text > 0.5 && f.distance > 0.9 && f.freshness > 0.999, "{f:?}");
        assert!((f.price - 0.75).abs() < 1e-9);
    }
}
