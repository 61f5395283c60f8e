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

/// The feature values behind a match score, each in [0, 1], and their weights.
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
