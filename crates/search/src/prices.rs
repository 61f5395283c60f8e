//! The prices of every document a search matches, for the assistant's
//! price ranges ("婴儿床一般多少钱？"): read from the decoded price column
//! (`columns.rs`) with one array read per match, so a range over a whole
//! category costs what counting it costs.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::columns::SegmentColumns;

pub struct Prices<'c> {
    /// The searcher's, by segment ordinal.
    pub columns: &'c [SegmentColumns],
}

pub struct PricesSegment {
    columns: SegmentColumns,
    prices: Vec<i64>,
}

impl Collector for Prices<'_> {
    type Fruit = Vec<i64>;
    type Child = PricesSegment;

    fn for_segment(&self, ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<PricesSegment> {
        let columns = match self.columns.get(ord as usize) {
            Some(c) => c.clone(),
            None => SegmentColumns::open(segment),
        };
        Ok(PricesSegment { columns, prices: Vec::new() })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<i64>>) -> tantivy::Result<Vec<i64>> {
        let mut all: Vec<i64> = fruits.into_iter().flatten().collect();
        all.sort_unstable();
        Ok(all)
    }
}

impl SegmentCollector for PricesSegment {
    type Fruit = Vec<i64>;

    fn collect(&mut self, doc: DocId, _: Score) {
        if let Some(p) = self.columns.price(doc) {
            self.prices.push(p);
        }
    }

    fn harvest(self) -> Vec<i64> {
        self.prices
    }
}
