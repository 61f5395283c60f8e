//! Full-text search over offers and demands: a tantivy index with the shared
//! Chinese/English analysers, filters (kind, category, price, distance),
//! category facets, highlighted snippets, "more like this", and a hot-query
//! cache invalidated on every commit.
//!
//! Architecture invariant: the index is derived data. It is fed from the
//! store's outbox (the commit payload records the last event applied) and can
//! be rebuilt from the store at any time; nothing here is the system of record.

pub mod analyzer;
pub mod beir;
mod fields;
mod index;
mod request;

pub use index::SearchIndex;
pub use request::{Hit, Kind, Near, SearchRequest, SearchResults};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("invalid query: {0}")]
    Query(String),
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("cannot open the search index: {0}")]
    Open(String),
    #[error("{0}")]
    Io(String),
}
