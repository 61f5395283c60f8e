//! Demands: what people need or want. Input arrives as `DemandInput` (untrusted,
//! loosely typed so that every bad field can be named) and is parsed into `NewDemand`.

use serde::{Deserialize, Serialize};

use crate::error::{Collector, ValidationError};
use crate::geo::GeoPoint;
use crate::time::{HOUR_MS, Millis};
use crate::values::{Category, Money, PartyId, Quantity, Text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Self::Low, Self::Normal, Self::High, Self::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == raw.trim().to_ascii_lowercase())
            .ok_or_else(|| ValidationError::one(field, "must be one of low, normal, high, urgent"))
    }

    /// How much more an allocation to this demand is worth than to a normal one;
    /// the batch allocator multiplies match scores by it so urgent needs win ties
    /// for scarce supply.
    pub fn weight(self) -> f64 {
        match self {
            Self::Low => 0.8,
            Self::Normal => 1.0,
            Self::High => 1.25,
            Self::Urgent => 1.5,
        }
    }
}

/// Lifecycle: `open → matched → fulfilled | cancelled | expired`. `open`,
/// `matched` and `fulfilled` follow from the unit counts; `cancelled` and
/// `expired` are terminal decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DemandStatus {
    Open,
    Matched,
    Fulfilled,
    Cancelled,
    Expired,
}

impl DemandStatus {
    pub const ALL: [DemandStatus; 5] = [Self::Open, Self::Matched, Self::Fulfilled, Self::Cancelled, Self::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Matched => "matched",
            Self::Fulfilled => "fulfilled",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| ValidationError::one(field, "must be one of open, matched, fulfilled, cancelled, expired"))
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Fulfilled | Self::Cancelled | Self::Expired)
    }

    /// The status implied by the unit counts of a demand that is not cancelled or expired.
    pub fn from_units(quantity: i64, matched: i64, fulfilled: i64) -> Self {
        if fulfilled >= quantity {
            Self::Fulfilled
        } else if matched + fulfilled >= quantity {
            Self::Matched
        } else {
            Self::Open
        }
    }
}

/// A location with the radius within which the requester accepts offers.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LocationInput {
    pub lat: f64,
    pub lon: f64,
}

/// A demand as submitted: untrusted. Parse it with [`DemandInput::parse`].
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DemandInput {
    /// Who needs it.
    pub requester: String,
    /// What is needed, in any language (1–2,000 characters).
    pub text: String,
    /// Category slug; classified from the text when absent.
    pub category: Option<String>,
    /// low, normal (default), high or urgent.
    pub priority: Option<String>,
    /// The most the requester will pay per unit, in minor units (fen, cents).
    pub budget: Option<i64>,
    pub location: Option<LocationInput>,
    /// Offers farther than this from `location` are never matched.
    pub max_distance_km: Option<f64>,
    /// Units needed (default 1).
    pub quantity: Option<i64>,
    /// The demand expires this many hours after creation (default: never).
    pub expires_in_hours: Option<f64>,
    /// Queue a match of the new demand as a job that any node may take
    /// (the response's `Link` header names it). Not stored with the demand.
    pub auto_match: Option<bool>,
}

/// A validated demand, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDemand {
    pub requester: PartyId,
    pub text: Text,
    pub category: Option<Category>,
    pub priority: Priority,
    pub budget: Option<Money>,
    pub location: Option<GeoPoint>,
    pub max_distance_km: Option<f64>,
    pub quantity: Quantity,
    pub expires_in_ms: Option<Millis>,
}

impl DemandInput {
    pub fn parse(&self) -> Result<NewDemand, ValidationError> {
        let mut c = Collector::default();
        let requester = c.take(PartyId::parse("requester", &self.requester));
        let text = c.take(Text::parse("text", &self.text));
        let category = match &self.category {
            Some(s) if !s.trim().is_empty() => c.take(Category::parse("category", s)).map(Some),
            _ => Some(None),
        };
        let priority = match &self.priority {
            Some(p) => c.take(Priority::parse("priority", p)),
            None => Some(Priority::Normal),
        };
        let budget = match self.budget {
            Some(b) => c.take(Money::parse("budget", b)).map(Some),
            None => Some(None),
        };
        let location = match &self.location {
            Some(l) => c.take(GeoPoint::parse("location", l.lat, l.lon)).map(Some),
            None => Some(None),
        };
        let max_distance_km = match self.max_distance_km {
            Some(km) if !(km.is_finite() && km > 0.0 && km <= 20_000.0) => {
                c.take::<()>(Err(ValidationError::one(
                    "max_distance_km",
                    "must be a number greater than 0 and at most 20000",
                )));
                None
            }
            Some(_) if self.location.is_none() => {
                c.take::<()>(Err(ValidationError::one("max_distance_km", "needs a location to measure from")));
                None
            }
            km => Some(km),
        };
        let quantity = c.take(Quantity::parse("quantity", self.quantity.unwrap_or(1)));
        let expires_in_ms = match self.expires_in_hours {
            Some(h) if !(h.is_finite() && h > 0.0 && h <= 24.0 * 366.0) => {
                c.take::<()>(Err(ValidationError::one(
                    "expires_in_hours",
                    "must be greater than 0 and at most 8784 (one year)",
                )));
                None
            }
            Some(h) => Some(Some((h * HOUR_MS as f64) as Millis)),
            None => Some(None),
        };
        c.finish()?;
        // Every `None` above recorded an error, so `finish` returned early.
        match (requester, text, category, priority, budget, location, max_distance_km, quantity, expires_in_ms) {
            (
                Some(requester),
                Some(text),
                Some(category),
                Some(priority),
                Some(budget),
                Some(location),
                Some(max_distance_km),
                Some(quantity),
                Some(expires_in_ms),
            ) => Ok(NewDemand {
                requester,
                text,
                category,
                priority,
                budget,
                location,
                max_distance_km,
                quantity,
                expires_in_ms,
            }),
            _ => Err(ValidationError::one("demand", "invalid")),
        }
    }
}

/// Where a demand's category came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CategorySource {
    /// Given by the requester.
    Given,
    /// Assigned by the intake classifier.
    Classified,
    /// Set by an operator.
    Operator,
}

impl CategorySource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Given => "given",
            Self::Classified => "classified",
            Self::Operator => "operator",
        }
    }

    pub fn from_db(s: &str) -> Self {
        match s {
            "given" => Self::Given,
            "operator" => Self::Operator,
            _ => Self::Classified,
        }
    }
}

/// A stored demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Demand {
    pub id: i64,
    pub requester: String,
    pub text: String,
    pub category: String,
    pub category_source: CategorySource,
    /// Confidence of the classifier in [0, 1]; 1 for given categories.
    pub category_confidence: f64,
    /// The model that classified it (`classifier v3`), or `rules`; absent when given.
    pub category_model: Option<String>,
    /// Classified with low confidence: waiting for an operator in the review queue.
    pub needs_review: bool,
    pub priority: Priority,
    pub budget: Option<i64>,
    pub location: Option<GeoPoint>,
    pub max_distance_km: Option<f64>,
    pub quantity: i64,
    /// Units in proposed or accepted matches.
    pub matched_units: i64,
    pub fulfilled_units: i64,
    pub status: DemandStatus,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
}

impl Demand {
    /// Units still wanted: neither in a live match nor fulfilled.
    pub fn open_units(&self) -> i64 {
        if self.status.is_terminal() { 0 } else { (self.quantity - self.matched_units - self.fulfilled_units).max(0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> DemandInput {
        DemandInput {
            requester: "u1".into(),
            text: "想买一台二手自行车，预算300元，在杭州".into(),
            budget: Some(30_000),
            location: Some(LocationInput { lat: 30.27, lon: 120.15 }),
            max_distance_km: Some(10.0),
            ..Default::default()
        }
    }

    #[test]
    fn parses_a_valid_demand_with_defaults() {
        let d = valid().parse().unwrap();
        assert_eq!(d.priority, Priority::Normal);
        assert_eq!(d.quantity.get(), 1);
        assert_eq!(d.category, None);
        assert_eq!(d.budget.unwrap().minor(), 30_000);
    }

    #[test]
    fn reports_every_bad_field_by_name() {
        let mut d = valid();
        d.text = " ".into();
        d.budget = Some(-5);
        d.priority = Some("asap".into());
        d.quantity = Some(0);
        d.location = Some(LocationInput { lat: 100.0, lon: 0.0 });
        let fields: Vec<String> = d.parse().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["text", "priority", "budget", "location.lat", "quantity"]);
    }

    #[test]
    fn distance_needs_a_location() {
        let mut d = valid();
        d.location = None;
        assert_eq!(d.parse().unwrap_err().0[0].field, "max_distance_km");
    }

    #[test]
    fn status_follows_units() {
        assert_eq!(DemandStatus::from_units(3, 0, 0), DemandStatus::Open);
        assert_eq!(DemandStatus::from_units(3, 2, 0), DemandStatus::Open);
        assert_eq!(DemandStatus::from_units(3, 2, 1), DemandStatus::Matched);
        assert_eq!(DemandStatus::from_units(3, 0, 3), DemandStatus::Fulfilled);
    }
}
