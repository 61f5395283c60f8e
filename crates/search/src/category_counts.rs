//! Documents per category for a search's facets. Each segment's categories
//! are decoded once into an array (document → ordinal in the segment's
//! `category` column), kept with the segment's other columns (`columns.rs`),
//! so a search counts a matching document with one array read, and names
//! the ordinals once at the end. (Hand-written: tantivy's `FacetCollector`
//! reads a multi-valued facet column and maps its ordinals for every
//! matching document, a fifth of an uncached search's time at 2M documents;
//! the string column read per document was still a fifth of it.)

use std::collections::BTreeMap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::columns::SegmentColumns;

/// A segment's documents' categories, as ordinals of its `category` column.
#[derive(Clone)]
pub struct SegmentCategories {
    names: StrColumn,
    /// By document; `u32::MAX`: none.
    ords: Arc<[u32]>,
}

impl SegmentCategories {
    pub fn open(segment: &SegmentReader) -> Option<Self> {
        let names = segment.fast_fields().str("category").ok()??;
        let column = names.ords();
        let ords = (0..segment.max_doc())
            .map(|doc| column.first(doc).and_then(|o| u32::try_from(o).ok()).unwrap_or(u32::MAX))
            .collect();
        Some(Self { names, ords })
    }
}

/// Counts the documents it is given by category.
pub struct CategoryCounts<'c> {
    /// The searcher's, by segment ordinal.
    pub columns: &'c [SegmentColumns],
}

pub struct CategoryCountsSegment {
    categories: Option<SegmentCategories>,
    counts: Vec<u64>,
}

impl Collector for CategoryCounts<'_> {
    type Fruit = BTreeMap<String, u64>;
    type Child = CategoryCountsSegment;

    fn for_segment(&self, ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<CategoryCountsSegment> {
        let categories = match self.columns.get(ord as usize) {
            Some(c) => c.categories.clone(),
            None => SegmentCategories::open(segment),
        };
        let counts = vec![0; categories.as_ref().map_or(0, |c| c.names.num_terms())];
        Ok(CategoryCountsSegment { categories, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<BTreeMap<String, u64>>) -> tantivy::Result<BTreeMap<String, u64>> {
        let mut all = BTreeMap::new();
        for (category, n) in fruits.into_iter().flatten() {
            *all.entry(category).or_insert(0) += n;
        }
        Ok(all)
    }
}

impl SegmentCollector for CategoryCountsSegment {
    type Fruit = BTreeMap<String, u64>;

    fn collect(&mut self, doc: DocId, _: Score) {
        let Some(c) = &self.categories else { return };
        if let Some(n) = c.ords.get(doc as usize).and_then(|&o| self.counts.get_mut(o as usize)) {
            *n += 1;
        }
    }

    fn harvest(self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        let Some(c) = self.categories else { return out };
        for (ord, n) in self.counts.into_iter().enumerate().filter(|(_, n)| *n > 0) {
            let mut name = String::new();
            if c.names.ord_to_str(ord as u64, &mut name).unwrap_or(false) {
                out.insert(name, n);
            }
        }
        out
    }
}
