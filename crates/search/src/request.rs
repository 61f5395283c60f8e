//! What a search asks for and what it answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Offer,
    Demand,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offer => "offer",
            Self::Demand => "demand",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Near {
    pub lat: f64,
    pub lon: f64,
    pub km: f64,
}

/// A search. `q` uses the query syntax: words, `"phrases"`, `AND`, `OR`,
/// `NOT` / `-word`; empty matches everything (browse by filters).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    pub q: String,
    pub kind: Option<Kind>,
    pub category: Option<String>,
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    pub near: Option<Near>,
    /// Only documents in this state (`available`, `open`, …).
    pub status: Option<String>,
    /// Similar to this offer instead of a text query.
    pub more_like: Option<i64>,
    pub limit: usize,
    pub offset: usize,
}

impl SearchRequest {
    /// A cache key: the request in a canonical form.
    pub fn cache_key(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub kind: Kind,
    pub id: i64,
    pub score: f32,
    /// The matching passage with `<b>…</b>` around matched terms.
    pub snippet: String,
    pub category: String,
    pub price: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    /// Matching documents (before `limit`/`offset`).
    pub total: usize,
    pub hits: Vec<Hit>,
    /// Matching documents per category (vertical search).
    pub facets: BTreeMap<String, u64>,
}
