//! Distance as a filter inside the search. A bounding box on the `lat`/`lon`
//! ranges narrows the documents cheaply; this collector then keeps only the
//! documents that pass the exact rule, reading their coordinates from the fast
//! fields, before any collector inside it (top hits, count, facets) sees them.
//! So the top hits are the best ones within reach, with no margin fetched and
//! re-checked afterwards, and counts and facets agree with the hits.
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
    /// The bounding box of a `Within` reach, to narrow the search in the index.
    pub fn bounding_box(&self) -> Option<crate::Near> {
        match *self {
            Self::Within { at, km } => Some(crate::Near { lat: at.lat, lon: at.lon, km }),
            _ => None,
        }
    }
}

/// Wraps a collector so it sees only the documents within `reach`.
pub struct WithinReach<C> {
    pub reach: Reach,
    pub inner: C,
}

pub struct WithinReachSegment<S> {
    reach: Reach,
    lat: Option<Column<f64>>,
    lon: Option<Column<f64>>,
    max_km: Option<Column<f64>>,
    inner: S,
}

impl<S> WithinReachSegment<S> {
    fn point(&self, doc: DocId) -> Option<GeoPoint> {
        Some(GeoPoint { lat: self.lat.as_ref()?.first(doc)?, lon: self.lon.as_ref()?.first(doc)? })
    }

    fn admits(&self, doc: DocId) -> bool {
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
        let ff = segment.fast_fields();
        Ok(WithinReachSegment {
            reach: self.reach,
            lat: ff.f64("lat").ok(),
            lon: ff.f64("lon").ok(),
            max_km: ff.f64("max_km").ok(),
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
