//! Interactions: what a person did with an offer — the implicit feedback
//! recommenders learn from.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::values::PartyId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum InteractionKind {
    View,
    Click,
    Accept,
    Fulfil,
    Rate,
}

impl InteractionKind {
    pub const ALL: [InteractionKind; 5] = [Self::View, Self::Click, Self::Accept, Self::Fulfil, Self::Rate];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Click => "click",
            Self::Accept => "accept",
            Self::Fulfil => "fulfil",
            Self::Rate => "rate",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| ValidationError::one(field, "must be one of view, click, accept, fulfil, rate"))
    }

    /// Default training weight of one interaction of this kind (a rating
    /// counts its value instead). Configurable at training time.
    pub fn default_weight(self) -> f64 {
        match self {
            Self::View => 1.0,
            Self::Click => 2.0,
            Self::Accept => 4.0,
            Self::Fulfil => 8.0,
            Self::Rate => 1.0,
        }
    }
}

/// An interaction as submitted.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InteractionInput {
    pub user: String,
    pub offer_id: i64,
    /// view, click, accept, fulfil or rate.
    pub kind: String,
    /// The rating for `rate` (1–5); ignored otherwise.
    pub value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewInteraction {
    pub user: PartyId,
    pub offer_id: i64,
    pub kind: InteractionKind,
    pub value: f64,
}

impl InteractionInput {
    /// Parses; `prefix` names the position in a batch (`interactions[3]`).
    pub fn parse(&self, prefix: &str) -> Result<NewInteraction, ValidationError> {
        let f = |name: &str| if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") };
        let user = PartyId::parse(&f("user"), &self.user)?;
        let kind = InteractionKind::parse(&f("kind"), &self.kind)?;
        if self.offer_id <= 0 {
            return Err(ValidationError::one(f("offer_id"), "must be a positive offer id"));
        }
        let value = match (kind, self.value) {
            (InteractionKind::Rate, Some(v)) if v.is_finite() && (1.0..=5.0).contains(&v) => v,
            (InteractionKind::Rate, _) => {
                return Err(ValidationError::one(f("value"), "a rating from 1 to 5 is needed"));
            }
            _ => 1.0,
        };
        Ok(NewInteraction { user, offer_id: self.offer_id, kind, value })
    }
}

/// A stored interaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interaction {
    pub id: i64,
    pub user: String,
    pub offer_id: i64,
    pub kind: InteractionKind,
    pub value: f64,
    pub created_at: i64,
}
