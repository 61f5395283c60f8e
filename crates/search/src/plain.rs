//! Plain documents (a title and a text under the caller's integer id) searched
//! as a bag of analysed terms by BM25: what an evaluation corpus or an FAQ
//! needs, without the marketplace's kinds, filters and facets.

use tantivy::collector::TopDocs;

use crate::query::{QueryBuilder, QueryWeights};
use crate::{SearchError, SearchIndex};

/// A searcher over the index's committed plain documents, holding each
/// segment's `id` column open so that queries do not reopen it.
pub struct PlainSearcher {
    searcher: tantivy::Searcher,
    columns: Vec<tantivy::columnar::Column<i64>>,
    index: tantivy::Index,
    fields: crate::fields::Fields,
}

impl SearchIndex {
    /// A searcher over what is committed now.
    pub fn plain_searcher(&self) -> Result<PlainSearcher, SearchError> {
        let searcher = self.reader().searcher();
        let columns =
            searcher.segment_readers().iter().map(|s| s.fast_fields().i64("id")).collect::<Result<Vec<_>, _>>()?;
        Ok(PlainSearcher { searcher, columns, index: self.index().clone(), fields: self.fields() })
    }
}

impl PlainSearcher {
    /// The ids of the top `k` documents for a query read as a bag of terms
    /// (the one query builder's), the title weighted by `title_boost`.
    pub fn search(&self, text: &str, k: usize, title_boost: f32) -> Result<Vec<i64>, SearchError> {
        let weights = QueryWeights { words: 1.0, bigrams: 0.0, title: title_boost };
        // Literal: a benchmark's documents are not the market the bundled
        // synonyms were written for.
        let builder = QueryBuilder { index: &self.index, fields: self.fields, weights, synonyms: Default::default() };
        let query = builder.text_query(text)?;
        // A plain scored union (through `tweak_score`) rather than block-WAND:
        // with long queries over a small corpus, WAND's per-step sorting of
        // its term cursors costs more than the documents it skips.
        let collector = TopDocs::with_limit(k.max(1))
            .tweak_score(|_: &tantivy::SegmentReader| |_doc: tantivy::DocId, score: tantivy::Score| score);
        let top = self.searcher.search(&*query, &collector)?;
        // Ids come from the fast-field column: reading stored documents would
        // decompress a block per hit.
        Ok(top.into_iter().filter_map(|(_, a)| self.columns[a.segment_ord as usize].first(a.doc_id)).collect())
    }
}
