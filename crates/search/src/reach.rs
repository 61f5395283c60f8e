//! Distance and price as filters inside the search. This collector keeps only
//! the documents that pass the exact rules, reading coordinates and prices
//! from the segment's columns (`columns.rs`) for the documents the query
//! matched, before any
//! collector inside it (top hits, count, facets) sees them. So the top hits
//! are the best ones within reach, with no margin fetched and re-checked
//! afterwards, counts and facets agree with the hits, and the cost follows the
//! documents the text matched, not the catalogue: a range query on a fast
//! field would scan the field's whole column on every query.
//! (Hand-written: tantivy has no geo query, and its `FilterCollector` reads
//! one field, where distance needs two, or three with a demand's own radius.)

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};
use wantloop_core::GeoPoint;

use crate::columns::SegmentColumns;

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
                self.c.price(doc).is_some_and(|p| min.is_none_or(|lo| p >= lo) && max.is_none_or(|hi| p <= hi))
            }
            PriceRule::PaysAtLeast(price) => self.c.pays_up_to(doc).is_some_and(|pays| pays >= price),
        };
        priced && self.within(doc)
    }

    fn within(&self, doc: DocId) -> bool {
        match self.reach {
            Reach::Anywhere => true,
            Reach::Within { at, km } => self.c.point(doc).is_some_and(|p| p.distance_km(&at) <= km),
            Reach::DemandRadius { from } => match self.c.max_km(doc) {
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
