//! The prices of the documents a search matches, for the assistant's price
//! ranges ("婴儿床一般多少钱？"): read from the decoded price column
//! (`columns.rs`) with one array read per match. Count, minimum and maximum
//! are exact; the prices kept for the median are bounded: past
//! [`MAX_KEPT`] a segment keeps every second one and halves how often it
//! keeps the next (a systematic sample in document order).

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::columns::SegmentColumns;

/// Prices one segment keeps at most.
pub const MAX_KEPT: usize = 65_536;

/// What a price range is computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceSample {
    pub count: usize,
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// Ascending; all the prices when `count` ≤ [`MAX_KEPT`], else a sample.
    pub kept: Vec<i64>,
}

pub struct Prices<'c> {
    /// The searcher's, by segment ordinal.
    pub columns: &'c [SegmentColumns],
}

pub struct PricesSegment {
    columns: SegmentColumns,
    sample: PriceSample,
    /// Keep one price in `stride`.
    stride: usize,
    seen: usize,
}

impl Collector for Prices<'_> {
    type Fruit = PriceSample;
    type Child = PricesSegment;

    fn for_segment(&self, ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<PricesSegment> {
        let columns = match self.columns.get(ord as usize) {
            Some(c) => c.clone(),
            None => SegmentColumns::open(segment),
        };
        Ok(PricesSegment { columns, sample: PriceSample::default(), stride: 1, seen: 0 })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<PriceSample>) -> tantivy::Result<PriceSample> {
        let mut all = PriceSample::default();
        for f in fruits {
            all.count += f.count;
            all.min = all.min.into_iter().chain(f.min).min();
            all.max = all.max.into_iter().chain(f.max).max();
            all.kept.extend(f.kept);
        }
        all.kept.sort_unstable();
        Ok(all)
    }
}

impl SegmentCollector for PricesSegment {
    type Fruit = PriceSample;

    fn collect(&mut self, doc: DocId, _: Score) {
        let Some(p) = self.columns.price(doc) else { return };
        let s = &mut self.sample;
        s.count += 1;
        s.min = Some(s.min.map_or(p, |m| m.min(p)));
        s.max = Some(s.max.map_or(p, |m| m.max(p)));
        self.seen += 1;
        if self.seen.is_multiple_of(self.stride) {
            s.kept.push(p);
            if s.kept.len() >= MAX_KEPT {
                let mut i = 0usize;
                s.kept.retain(|_| {
                    i += 1;
                    i.is_multiple_of(2)
                });
                self.stride *= 2;
            }
        }
    }

    fn harvest(self) -> PriceSample {
        self.sample
    }
}
