//! Matches: a proposal that some units of an offer go to a demand, with the
//! score and the per-feature explanation that produced it.

use serde::{Deserialize, Serialize};

use crate::error::{Collector, ValidationError};
use crate::geo::GeoPoint;
use crate::offer::parse_condition;
use crate::values::{Money, Quantity};

/// Lifecycle: `proposed → accepted → fulfilled`, and `proposed | accepted →
/// rejected`, `proposed → expired`. Rejected and expired matches return their units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MatchStatus {
    Proposed,
    Accepted,
    Fulfilled,
    Rejected,
    Expired,
}

impl MatchStatus {
    pub const ALL: [MatchStatus; 5] = [Self::Proposed, Self::Accepted, Self::Fulfilled, Self::Rejected, Self::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Accepted => "accepted",
            Self::Fulfilled => "fulfilled",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| {
            ValidationError::one(field, "must be one of proposed, accepted, fulfilled, rejected, expired")
        })
    }

    /// Whether the match still holds units of its offer.
    pub fn holds_units(self) -> bool {
        matches!(self, Self::Proposed | Self::Accepted)
    }
}

/// A requested change of a match's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchTransition {
    Accept,
    Reject,
    Fulfil,
    Expire,
}

impl MatchTransition {
    pub fn name(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Reject => "reject",
            Self::Fulfil => "fulfil",
            Self::Expire => "expire",
        }
    }

    /// The state a match in `from` moves to, or `None` when the transition is illegal.
    pub fn target(self, from: MatchStatus) -> Option<MatchStatus> {
        use MatchStatus::*;
        match (self, from) {
            (Self::Accept, Proposed) => Some(Accepted),
            (Self::Reject, Proposed | Accepted) => Some(Rejected),
            (Self::Fulfil, Accepted) => Some(Fulfilled),
            (Self::Expire, Proposed) => Some(Expired),
            _ => None,
        }
    }
}

/// The feature values behind a match score, and the explanation of the
/// score. The first four are what the transparent v1 weights read; the rest
/// are the market's signals a learned ranker reads too.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeatureScores {
    /// Text relevance between demand and offer.
    pub text: f64,
    /// 1 when the price is far below budget, 0 at the budget.
    pub price: f64,
    /// 1 at the requester's location, 0 at the maximum distance.
    pub distance: f64,
    /// 1 for a brand-new offer, halving every week.
    pub freshness: f64,
    /// Distance in km when both sides have a location.
    pub distance_km: Option<f64>,
    /// How sure the demand's category is (1 when the requester gave it).
    #[serde(default)]
    pub category_confidence: f64,
    /// Share of the provider's decided matches that were fulfilled (smoothed).
    #[serde(default)]
    pub provider_fulfil_rate: f64,
    /// Share of the provider's decided matches rejected or expired (smoothed).
    #[serde(default)]
    pub provider_reject_rate: f64,
    /// The requester's affinity for the offer: the active recommender's score
    /// relative to its best for this person (0 without a model or history).
    #[serde(default)]
    pub affinity: f64,
    /// log(1 + the offer's interactions).
    #[serde(default)]
    pub popularity: f64,
    /// The offer's mean rating, shrunk to the market's mean, over 5.
    #[serde(default)]
    pub offer_rating: f64,
    /// How alike the demand's images and the offer's look: the best cosine
    /// of their visual vectors, floored at 0 (0 when either has none).
    #[serde(default)]
    pub visual: f64,
    /// Why the pair scored what it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// One value per feature a scorer reads, in [`FeatureScores::NAMES`] order.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeatureValues {
    pub text: f64,
    pub price: f64,
    pub distance: f64,
    pub freshness: f64,
    pub category_confidence: f64,
    pub provider_fulfil_rate: f64,
    pub provider_reject_rate: f64,
    pub affinity: f64,
    pub popularity: f64,
    pub offer_rating: f64,
    #[serde(default)]
    pub visual: f64,
}

impl FeatureValues {
    pub fn from_vector(v: &[f64; FeatureScores::COUNT]) -> Self {
        Self {
            text: v[0],
            price: v[1],
            distance: v[2],
            freshness: v[3],
            category_confidence: v[4],
            provider_fulfil_rate: v[5],
            provider_reject_rate: v[6],
            affinity: v[7],
            popularity: v[8],
            offer_rating: v[9],
            visual: v[10],
        }
    }

    pub fn sum(&self) -> f64 {
        FeatureScores::vector_of(self).iter().sum()
    }
}

/// Features from their values: no distance in km, no explanation (a stored
/// training row read back, as the retraining gate scores it).
impl From<FeatureValues> for FeatureScores {
    fn from(v: FeatureValues) -> Self {
        Self {
            text: v.text,
            price: v.price,
            distance: v.distance,
            freshness: v.freshness,
            distance_km: None,
            category_confidence: v.category_confidence,
            provider_fulfil_rate: v.provider_fulfil_rate,
            provider_reject_rate: v.provider_reject_rate,
            affinity: v.affinity,
            popularity: v.popularity,
            offer_rating: v.offer_rating,
            visual: v.visual,
            explanation: None,
        }
    }
}

/// A score taken apart: `bias` + the sum of `contributions` = the score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explanation {
    /// The ranker model that scored, or `None` for the transparent v1 weights.
    pub model_id: Option<i64>,
    pub bias: f64,
    pub contributions: FeatureValues,
}

impl FeatureScores {
    pub const COUNT: usize = 11;
    /// The features a scorer reads, in the order of [`FeatureScores::vector`]:
    /// a learned ranker is trained on these names and refused if they differ.
    pub const NAMES: [&'static str; Self::COUNT] = [
        "text",
        "price",
        "distance",
        "freshness",
        "category_confidence",
        "provider_fulfil_rate",
        "provider_reject_rate",
        "affinity",
        "popularity",
        "offer_rating",
        "visual",
    ];

    pub fn values(&self) -> FeatureValues {
        FeatureValues {
            text: self.text,
            price: self.price,
            distance: self.distance,
            freshness: self.freshness,
            category_confidence: self.category_confidence,
            provider_fulfil_rate: self.provider_fulfil_rate,
            provider_reject_rate: self.provider_reject_rate,
            affinity: self.affinity,
            popularity: self.popularity,
            offer_rating: self.offer_rating,
            visual: self.visual,
        }
    }

    pub fn vector(&self) -> [f64; Self::COUNT] {
        Self::vector_of(&self.values())
    }

    fn vector_of(v: &FeatureValues) -> [f64; Self::COUNT] {
        [
            v.text,
            v.price,
            v.distance,
            v.freshness,
            v.category_confidence,
            v.provider_fulfil_rate,
            v.provider_reject_rate,
            v.affinity,
            v.popularity,
            v.offer_rating,
            v.visual,
        ]
    }
}

/// A stored match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Match {
    pub id: i64,
    pub demand_id: i64,
    pub offer_id: i64,
    pub units: i64,
    pub score: f64,
    pub features: FeatureScores,
    pub status: MatchStatus,
    /// The offer created by relisting this match's fulfilled item, if any.
    pub relisted_offer_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// A proposed match not accepted by then expires and returns its units.
    pub expires_at: Option<i64>,
}

/// Relisting a fulfilled item as new supply, as submitted.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RelistInput {
    /// Units to relist (default: all fulfilled units); at most the match's units.
    pub quantity: Option<i64>,
    /// new, like_new, good, fair or used.
    pub condition: Option<String>,
    /// Price per unit (default: the original offer's price).
    pub price: Option<i64>,
    /// Where the item now is (default: the demand's location, else the offer's).
    pub location: Option<crate::demand::LocationInput>,
}

/// A validated relisting.
#[derive(Debug, Clone, PartialEq)]
pub struct Relist {
    pub quantity: Option<Quantity>,
    pub condition: Option<String>,
    pub price: Option<Money>,
    pub location: Option<GeoPoint>,
}

impl RelistInput {
    pub fn parse(&self) -> Result<Relist, ValidationError> {
        let mut c = Collector::default();
        let quantity = self.quantity.and_then(|q| c.take(Quantity::parse("relist.quantity", q)));
        let condition = self.condition.as_deref().and_then(|s| c.take(parse_condition("relist.condition", s)));
        let price = self.price.and_then(|p| c.take(Money::parse("relist.price", p)));
        let location = self.location.as_ref().and_then(|l| c.take(GeoPoint::parse("relist.location", l.lat, l.lon)));
        c.finish()?;
        Ok(Relist { quantity, condition, price, location })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MatchStatus::*;
    use MatchTransition::*;

    #[test]
    fn legal_transitions_table() {
        let legal = [
            (Accept, Proposed, Accepted),
            (Reject, Proposed, Rejected),
            (Reject, Accepted, Rejected),
            (Fulfil, Accepted, Fulfilled),
            (Expire, Proposed, Expired),
        ];
        for t in [Accept, Reject, Fulfil, Expire] {
            for from in MatchStatus::ALL {
                let expected = legal.iter().find(|(lt, lf, _)| *lt == t && *lf == from).map(|l| l.2);
                assert_eq!(t.target(from), expected, "{t:?} from {from:?}");
            }
        }
    }

    #[test]
    fn relist_validation_names_fields() {
        let bad = RelistInput { quantity: Some(0), condition: Some("x".into()), ..Default::default() };
        let fields: Vec<String> = bad.parse().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["relist.quantity", "relist.condition"]);
    }
}
