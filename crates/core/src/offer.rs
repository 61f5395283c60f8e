//! Offers: supply posted by providers, with a capacity in units.

use serde::{Deserialize, Serialize};

use crate::demand::LocationInput;
use crate::error::{Collector, ValidationError};
use crate::geo::GeoPoint;
use crate::values::{Category, Money, PartyId, Quantity, Text};

/// Lifecycle: `available → exhausted | withdrawn`. `available`/`exhausted`
/// follow from the free units (a released reservation makes an exhausted offer
/// available again); `withdrawn` is a provider's terminal decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OfferStatus {
    Available,
    Exhausted,
    Withdrawn,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 3] = [Self::Available, Self::Exhausted, Self::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Exhausted => "exhausted",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| ValidationError::one(field, "must be one of available, exhausted, withdrawn"))
    }
}

/// Condition of a physical item; relisted items say how worn they are.
pub const CONDITIONS: [&str; 5] = ["new", "like_new", "good", "fair", "used"];

pub fn parse_condition(field: &str, raw: &str) -> Result<String, ValidationError> {
    let c = raw.trim().to_ascii_lowercase();
    if CONDITIONS.contains(&c.as_str()) {
        Ok(c)
    } else {
        Err(ValidationError::one(field, "must be one of new, like_new, good, fair, used"))
    }
}

/// An offer as submitted: untrusted. Parse it with [`OfferInput::parse`].
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OfferInput {
    pub provider: String,
    pub text: String,
    pub category: String,
    /// Price per unit in minor units (0 for free).
    pub price: i64,
    pub location: Option<LocationInput>,
    /// Units available (default 1).
    pub capacity: Option<i64>,
    /// new, like_new, good, fair or used.
    pub condition: Option<String>,
}

/// A validated offer, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOffer {
    pub provider: PartyId,
    pub text: Text,
    pub category: Category,
    pub price: Money,
    pub location: Option<GeoPoint>,
    pub capacity: Quantity,
    pub condition: Option<String>,
}

impl OfferInput {
    pub fn parse(&self) -> Result<NewOffer, ValidationError> {
        let mut c = Collector::default();
        let provider = c.take(PartyId::parse("provider", &self.provider));
        let text = c.take(Text::parse("text", &self.text));
        let category = c.take(Category::parse("category", &self.category));
        let price = c.take(Money::parse("price", self.price));
        let location = match &self.location {
            Some(l) => c.take(GeoPoint::parse("location", l.lat, l.lon)).map(Some),
            None => Some(None),
        };
        let capacity = c.take(Quantity::parse("capacity", self.capacity.unwrap_or(1)));
        let condition = match &self.condition {
            Some(s) => c.take(parse_condition("condition", s)).map(Some),
            None => Some(None),
        };
        c.finish()?;
        match (provider, text, category, price, location, capacity, condition) {
            (
                Some(provider),
                Some(text),
                Some(category),
                Some(price),
                Some(location),
                Some(capacity),
                Some(condition),
            ) => Ok(NewOffer { provider, text, category, price, location, capacity, condition }),
            _ => Err(ValidationError::one("offer", "invalid")),
        }
    }
}

/// A stored offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Offer {
    pub id: i64,
    pub provider: String,
    pub text: String,
    pub category: String,
    pub price: i64,
    pub location: Option<GeoPoint>,
    pub capacity: i64,
    /// Units held by proposed or accepted matches.
    pub reserved: i64,
    /// Units handed over in fulfilled matches.
    pub consumed: i64,
    pub status: OfferStatus,
    pub condition: Option<String>,
    /// The offer whose fulfilled item this relists (the circular loop).
    pub origin_offer_id: Option<i64>,
    /// The fulfilled match that produced this relisting.
    pub origin_match_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Offer {
    /// An available offer of one unit with nothing reserved, no location and
    /// zero timestamps: for offers built outside the store (evaluation pools,
    /// fuzz targets, tests), which set what they need over it.
    pub fn available(id: i64, provider: &str, text: &str, category: &str, price: i64) -> Self {
        Self {
            id,
            provider: provider.into(),
            text: text.into(),
            category: category.into(),
            price,
            location: None,
            capacity: 1,
            reserved: 0,
            consumed: 0,
            status: OfferStatus::Available,
            condition: None,
            origin_offer_id: None,
            origin_match_id: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    pub fn free_units(&self) -> i64 {
        if self.status == OfferStatus::Withdrawn { 0 } else { (self.capacity - self.reserved - self.consumed).max(0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_bad_fields() {
        let ok = OfferInput {
            provider: "p1".into(),
            text: "九成新捷安特山地车".into(),
            category: "bicycles".into(),
            price: 25_000,
            capacity: Some(2),
            ..Default::default()
        };
        assert_eq!(ok.parse().unwrap().capacity.get(), 2);
        let bad = OfferInput { price: -1, capacity: Some(0), condition: Some("broken".into()), ..ok };
        let fields: Vec<String> = bad.parse().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["price", "capacity", "condition"]);
    }
}
