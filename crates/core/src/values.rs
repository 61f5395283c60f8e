//! Validated value newtypes. Each has a `parse` that is the only way to build it
//! from untrusted input, so a value of the type is valid by construction.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// Free text of a demand or offer: 1–2,000 characters after trimming, no control
/// characters other than newlines and tabs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    pub const MAX_CHARS: usize = 2_000;

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(ValidationError::one(field, "must not be empty"));
        }
        let n = t.chars().count();
        if n > Self::MAX_CHARS {
            return Err(ValidationError::one(
                field,
                format!("must be at most {} characters, got {n}", Self::MAX_CHARS),
            ));
        }
        if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
            return Err(ValidationError::one(field, "must not contain control characters"));
        }
        Ok(Self(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A category slug: 1–64 characters of lowercase ASCII letters, digits, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Category(String);

impl Category {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let t = raw.trim().to_ascii_lowercase();
        if t.is_empty() || t.len() > 64 {
            return Err(ValidationError::one(field, "must be 1 to 64 characters"));
        }
        if !t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') {
            return Err(ValidationError::one(field, "may contain only letters a-z, digits, '_' and '-'"));
        }
        Ok(Self(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who posted something: an opaque party identifier of 1–128 visible characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartyId(String);

impl PartyId {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let t = raw.trim();
        if t.is_empty() || t.chars().count() > 128 {
            return Err(ValidationError::one(field, "must be 1 to 128 characters"));
        }
        if t.chars().any(char::is_control) {
            return Err(ValidationError::one(field, "must not contain control characters"));
        }
        Ok(Self(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An amount of money in the currency's minor units (fen, cents): 0 ≤ x ≤ 10¹².
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const MAX: i64 = 1_000_000_000_000;

    pub fn parse(field: &str, raw: i64) -> Result<Self, ValidationError> {
        if !(0..=Self::MAX).contains(&raw) {
            return Err(ValidationError::one(field, format!("must be between 0 and {} minor units", Self::MAX)));
        }
        Ok(Self(raw))
    }

    pub fn minor(self) -> i64 {
        self.0
    }
}

/// A positive number of units: 1 ≤ n ≤ 1,000,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(i64);

impl Quantity {
    pub const MAX: i64 = 1_000_000;

    pub fn parse(field: &str, raw: i64) -> Result<Self, ValidationError> {
        if !(1..=Self::MAX).contains(&raw) {
            return Err(ValidationError::one(field, format!("must be between 1 and {}", Self::MAX)));
        }
        Ok(Self(raw))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_trims_and_bounds_length() {
        assert_eq!(Text::parse("text", "  自行车 ").unwrap().as_str(), "自行车");
        assert!(Text::parse("text", "   ").is_err());
        assert!(Text::parse("text", &"字".repeat(2_000)).is_ok());
        let err = Text::parse("text", &"字".repeat(2_001)).unwrap_err();
        assert_eq!(err.0[0].field, "text");
        assert!(Text::parse("text", "a\u{0}b").is_err());
    }

    #[test]
    fn category_is_a_lowercase_slug() {
        assert_eq!(Category::parse("category", "Books").unwrap().as_str(), "books");
        assert!(Category::parse("category", "home services").is_err());
        assert!(Category::parse("category", "").is_err());
        assert!(Category::parse("category", "家具").is_err());
    }

    #[test]
    fn money_and_quantity_ranges() {
        assert!(Money::parse("budget", -1).is_err());
        assert!(Money::parse("budget", 0).is_ok());
        assert!(Money::parse("budget", Money::MAX + 1).is_err());
        assert!(Quantity::parse("quantity", 0).is_err());
        assert!(Quantity::parse("quantity", 1).is_ok());
        assert!(Quantity::parse("quantity", Quantity::MAX + 1).is_err());
    }
}
