//! Full-text search over offers and demands: a tantivy index with the shared
//! Chinese/English analysers, filters (kind, category, price, distance),
//! category facets, highlighted snippets, "more like this", and plain
//! documents (evaluation corpora, FAQs) searched as bags of terms.
//!
//! Architecture invariant: the index is derived data. It is fed from the
//! store's outbox (the commit payload records the last event applied) and can
//! be rebuilt from the store at any time; nothing here is the system of record.

pub mod analyzer;
mod category_counts;
mod cells;
mod columns;
mod doc_freqs;
mod fields;
mod index;
mod listed;
mod newest;
mod plain;
mod pool;
mod prices;
pub use prices::PriceSample;
pub mod query;
mod reach;
mod request;
pub mod synonyms;
mod upkeep;

pub use columns::MatchHit;
pub use index::{MAX_DEPTH, SearchIndex};
pub use plain::PlainSearcher;
pub use reach::Reach;
pub use request::{Hit, Kind, Near, SearchRequest, SearchResults};
pub use synonyms::{SynonymError, Synonyms};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("invalid query: {0}")]
    Query(String),
    #[error("results are ranked only to the {max}th hit; narrow the query or the filters")]
    TooDeep { max: usize },
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("cannot open the search index: {0}")]
    Open(String),
    #[error("the search index is in use: {0}")]
    Locked(String),
    #[error("{0}")]
    Io(String),
}
