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

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};
use wantloop_core::GeoPoint;

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

impl Reach {
    /// The circle of a `Within` reach, for the index's grid-cell filter.
    pub fn circle(&self) -> Option<crate::Near> {
        match *self {
            Self::Within { at, km } => Some(crate::Near { lat: at.lat, lon: at.lon, km }),
            _ => None,
        }
    }
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
/// price passes `price`.
pub struct WithinReach<C> {
    pub reach: Reach,
    pub price: PriceRule,
    pub inner: C,
}

pub struct WithinReachSegment<S> {
    reach: Reach,
    price_rule: PriceRule,
    lat: Option<Column<f64>>,
    lon: Option<Column<f64>>,
    max_km: Option<Column<f64>>,
    price: Option<Column<i64>>,
    pays_up_to: Option<Column<i64>>,
    inner: S,
}

impl<S> WithinReachSegment<S> {
    fn point(&self, doc: DocId) -> Option<GeoPoint> {
        Some(GeoPoint { lat: self.lat.as_ref()?.first(doc)?, lon: self.lon.as_ref()?.first(doc)? })
    }

    fn admits(&self, doc: DocId) -> bool {
        let priced = match self.price_rule {
            PriceRule::Any => true,
            PriceRule::Between { min, max } => self
                .price
                .as_ref()
                .and_then(|c| c.first(doc))
                .is_some_and(|p| min.is_none_or(|lo| p >= lo) && max.is_none_or(|hi| p <= hi)),
            PriceRule::PaysAtLeast(price) => {
                self.pays_up_to.as_ref().and_then(|c| c.first(doc)).is_some_and(|pays| pays >= price)
            }
        };
        priced && self.within(doc)
    }

    fn within(&self, doc: DocId) -> bool {
        match self.reach {
            Reach::Anywhere => true,
            Reach::Within { at, km } => self.point(doc).is_some_and(|p| p.distance_km(&at) <= km),
            Reach::DemandRadius { from } => match self.max_km.as_ref().and_then(|c| c.first(doc)) {
                None => true,
                Some(km) => from.zip(self.point(doc)).is_some_and(|(o, p)| p.distance_km(&o) <= km),
            },
        }
    }
}

impl<C: Collector> Collector for WithinReach<C> {
    type Fruit = C::Fruit;
    type Child = WithinReachSegment<C::Child>;

    fn for_segment(&self, ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<Self::Child> {
        // Only the columns the rules read: opening one costs a decode per segment.
        let ff = segment.fast_fields();
        let located = self.reach != Reach::Anywhere;
        let f64s = |name: &str, needed: bool| needed.then(|| ff.f64(name).ok()).flatten();
        let i64s = |name: &str, needed: bool| needed.then(|| ff.i64(name).ok()).flatten();
        Ok(WithinReachSegment {
            reach: self.reach,
            price_rule: self.price,
            lat: f64s("lat", located),
            lon: f64s("lon", located),
            max_km: f64s("max_km", matches!(self.reach, Reach::DemandRadius { .. })),
            price: i64s("price", matches!(self.price, PriceRule::Between { .. })),
            pays_up_to: i64s("pays_up_to", matches!(self.price, PriceRule::PaysAtLeast(_))),
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
        if self.admits(doc) {
            self.inner.collect(doc, score);
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.inner.harvest()
    }
}
