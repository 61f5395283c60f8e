//! The per-segment columns that the reach rules (`reach.rs`), the matchers
//! (`listed.rs`, `newest.rs`) and the facets (`category_counts.rs`) read for
//! matched documents, and the [`MatchHit`] a matcher answers with.

use std::sync::Arc;

use tantivy::columnar::Column;
use tantivy::{DocId, SegmentReader};
use wantloop_core::GeoPoint;

use crate::category_counts::SegmentCategories;

/// The columns the rules and the matchers read, for every segment of one
/// searcher. Opening a column decodes its block index, a cost that grows
/// with the segment, so they are opened once per searcher generation
/// (`SearchIndex::columns`), not per query. The values the rules read for
/// every pool member a matcher checks (place, radius, price, budget) are
/// decoded once into plain arrays: read from tantivy's compressed columns
/// per document they were a tenth of a matcher's CPU at 2M documents.
#[derive(Clone, Default)]
pub struct SegmentColumns {
    pub id: Option<Column<i64>>,
    lat: Floats,
    lon: Floats,
    max_km: Floats,
    price: Ints,
    pays_up_to: Ints,
    pub created_at: Option<Column<i64>>,
    pub categories: Option<SegmentCategories>,
}

/// A float column by document, NaN where a document has no value.
#[derive(Clone, Default)]
struct Floats(Option<Arc<[f64]>>);

/// An integer column by document, `i64::MIN` where a document has no value
/// (no price or budget is that).
#[derive(Clone, Default)]
struct Ints(Option<Arc<[i64]>>);

impl Floats {
    fn decode(column: Option<Column<f64>>, max_doc: DocId) -> Self {
        Self(column.map(|c| (0..max_doc).map(|d| c.first(d).unwrap_or(f64::NAN)).collect()))
    }

    fn get(&self, doc: DocId) -> Option<f64> {
        self.0.as_ref()?.get(doc as usize).copied().filter(|v| !v.is_nan())
    }
}

impl Ints {
    fn decode(column: Option<Column<i64>>, max_doc: DocId) -> Self {
        Self(column.map(|c| (0..max_doc).map(|d| c.first(d).unwrap_or(i64::MIN)).collect()))
    }

    fn get(&self, doc: DocId) -> Option<i64> {
        self.0.as_ref()?.get(doc as usize).copied().filter(|v| *v != i64::MIN)
    }
}

impl SegmentColumns {
    pub fn open(segment: &SegmentReader) -> Self {
        let ff = segment.fast_fields();
        let n = segment.max_doc();
        Self {
            id: ff.i64("id").ok(),
            lat: Floats::decode(ff.f64("lat").ok(), n),
            lon: Floats::decode(ff.f64("lon").ok(), n),
            max_km: Floats::decode(ff.f64("max_km").ok(), n),
            price: Ints::decode(ff.i64("price").ok(), n),
            pays_up_to: Ints::decode(ff.i64("pays_up_to").ok(), n),
            created_at: ff.i64("created_at").ok(),
            categories: SegmentCategories::open(segment),
        }
    }

    /// A document's place, if it has one.
    pub(crate) fn point(&self, doc: DocId) -> Option<GeoPoint> {
        Some(GeoPoint { lat: self.lat.get(doc)?, lon: self.lon.get(doc)? })
    }

    /// An offer's price; a demand's budget.
    pub(crate) fn price(&self, doc: DocId) -> Option<i64> {
        self.price.get(doc)
    }

    /// The most a demand pays (`i64::MAX` without a budget).
    pub(crate) fn pays_up_to(&self, doc: DocId) -> Option<i64> {
        self.pays_up_to.get(doc)
    }

    /// A demand's radius.
    pub(crate) fn max_km(&self, doc: DocId) -> Option<f64> {
        self.max_km.get(doc)
    }

    /// What a matcher's caller scores a hit by, read from these columns (see
    /// [`MatchHit`]); `None` if the document has no id.
    pub fn hit(&self, doc: DocId, relevance: f32) -> Option<MatchHit> {
        Some(MatchHit {
            id: self.id.as_ref()?.first(doc)?,
            relevance,
            price: self.price.get(doc),
            location: self.point(doc),
            max_km: self.max_km.get(doc),
            created_at: self.created_at.as_ref().and_then(|c| c.first(doc)).unwrap_or(0),
        })
    }
}

/// A document a matcher found, with the fields the match score reads, from
/// the index's columns: so a caller can rank a hundred hits and read only the
/// best few rows from the store. Those fields never change after a row is
/// written (a changed price or place is a new, relisted offer), so the index's
/// copy is the row's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchHit {
    pub id: i64,
    /// BM25 of the query's terms (0 for a document topped up by age).
    pub relevance: f32,
    /// An offer's price; a demand's budget (`None`: no budget).
    pub price: Option<i64>,
    pub location: Option<GeoPoint>,
    /// A demand's radius.
    pub max_km: Option<f64>,
    pub created_at: i64,
}
