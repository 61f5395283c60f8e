//! Distance and price as filters inside the search. This collector keeps only
//! the documents that pass the exact rules, reading coordinates and prices
//! from the fast fields of the documents the query matched, before any
//! collector inside it (top hits, count, facets) sees them. So the top hits
//! are the best ones within reach, with no margin fetched and re-checked
//! afterwards, counts and facets agree with the hits, and the cost follows the
//! documents the text matched, not the catalogue: a range query on a fast
//! field would scan the field's whole column on every query.
//! (Hand-written: tantivy has no geo query, and its `FilterCollector` reads
//! one field, where distance needs two, or three with a demand's own radius.)

use std::sync::Arc;
use tantivy::collector::{Collector, SegmentCollector};

use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};
use wantloop_core::GeoPoint;

use crate::category_counts::SegmentCategories;

/// Which documents are within reach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reach {
    /// Any distance.
    Anywhere,
    /// Located within `km` of `at` (a demand's radius, a search's `near`).
    Within { at: GeoPoint, km: f64 },
    /// Demands whose own radius (`max_km`) reaches `from` (an offer's place;
    /// `None`: the offer has no place, so only demands without a radius).
    DemandRadius { from: Option<GeoPoint> },
}

/// Which prices pass.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum PriceRule {
    #[default]
    Any,
    /// `price` within these bounds (a search's `price_min` / `price_max`).
    Between { min: Option<i64>, max: Option<i64> },
    /// Demands that pay at least this (`pays_up_to`): an offer's price.
    PaysAtLeast(i64),
}

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
    fn point(&self, doc: DocId) -> Option<GeoPoint> {
        Some(GeoPoint { lat: self.lat.get(doc)?, lon: self.lon.get(doc)? })
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

/// Wraps a collector so it sees only the documents within `reach` whose
/// price passes `price`. `columns` are the searcher's, by segment ordinal.
pub struct WithinReach<'c, C> {
    pub reach: Reach,
    pub price: PriceRule,
    pub columns: &'c [SegmentColumns],
    pub inner: C,
}

/// The rules of a reach and a price over one segment's columns.
pub struct SegmentRules {
    reach: Reach,
    price_rule: PriceRule,
    c: SegmentColumns,
}

impl SegmentRules {
    pub fn new(reach: Reach, price: PriceRule, c: SegmentColumns) -> Self {
        Self { reach, price_rule: price, c }
    }

    /// Whether `doc` is within reach and priced to pass.
    pub fn admits(&self, doc: DocId) -> bool {
        let priced = match self.price_rule {
            PriceRule::Any => true,
            PriceRule::Between { min, max } => {
                self.c.price.get(doc).is_some_and(|p| min.is_none_or(|lo| p >= lo) && max.is_none_or(|hi| p <= hi))
            }
            PriceRule::PaysAtLeast(price) => self.c.pays_up_to.get(doc).is_some_and(|pays| pays >= price),
        };
        priced && self.within(doc)
    }

    fn within(&self, doc: DocId) -> bool {
        match self.reach {
            Reach::Anywhere => true,
            Reach::Within { at, km } => self.c.point(doc).is_some_and(|p| p.distance_km(&at) <= km),
            Reach::DemandRadius { from } => match self.c.max_km.get(doc) {
                None => true,
                Some(km) => from.zip(self.c.point(doc)).is_some_and(|(o, p)| p.distance_km(&o) <= km),
            },
        }
    }
}

pub struct WithinReachSegment<S> {
    rules: SegmentRules,
    /// No rule at all: every document passes, unread.
    open: bool,
    inner: S,
}

impl<C: Collector> Collector for WithinReach<'_, C> {
    type Fruit = C::Fruit;
    type Child = WithinReachSegment<C::Child>;

    fn for_segment(&self, ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<Self::Child> {
        let columns = self.columns.get(ord as usize).cloned().unwrap_or_else(|| SegmentColumns::open(segment));
        Ok(WithinReachSegment {
            rules: SegmentRules::new(self.reach, self.price, columns),
            open: self.reach == Reach::Anywhere && self.price == PriceRule::Any,
            inner: self.inner.for_segment(ord, segment)?,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.inner.requires_scoring()
    }

    fn merge_fruits(&self, fruits: Vec<<Self::Child as SegmentCollector>::Fruit>) -> tantivy::Result<Self::Fruit> {
        self.inner.merge_fruits(fruits)
    }
}

impl<S: SegmentCollector> SegmentCollector for WithinReachSegment<S> {
    type Fruit = S::Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        if self.open || self.rules.admits(doc) {
            self.inner.collect(doc, score);
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.inner.harvest()
    }
}
