//! Plain documents (a title and a text under the caller's integer id) searched
//! as a bag of analysed terms by BM25: what an evaluation corpus or an FAQ
//! needs, without the marketplace's kinds, filters and facets.

use std::collections::HashSet;

use tantivy::Term;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

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
    /// Analysed terms of a query, each a SHOULD clause on text and, when
    /// `title_boost` is positive, on the boosted title.
    fn query(&self, text: &str, title_boost: f32) -> Result<Box<dyn Query>, SearchError> {
        let f = self.fields;
        let mut analyzer = self.index.tokenizer_for_field(f.text)?;
        let mut stream = analyzer.token_stream(text);
        let mut seen = HashSet::new();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        while stream.advance() {
            let t = stream.token().text.clone();
            if !seen.insert(t.clone()) {
                continue;
            }
            let tq = |field| TermQuery::new(Term::from_field_text(field, &t), IndexRecordOption::WithFreqs);
            clauses.push((Occur::Should, Box::new(tq(f.text))));
            if title_boost > 0.0 {
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(tq(f.title)), title_boost))));
            }
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    /// The ids of the top `k` documents for a query, best first.
    pub fn search(&self, text: &str, k: usize, title_boost: f32) -> Result<Vec<i64>, SearchError> {
        // A plain scored union (through `tweak_score`) rather than block-WAND:
        // with long queries over a small corpus, WAND's per-step sorting of
        // its term cursors costs more than the documents it skips.
        let collector = TopDocs::with_limit(k.max(1))
            .tweak_score(|_: &tantivy::SegmentReader| |_doc: tantivy::DocId, score: tantivy::Score| score);
        let top = self.searcher.search(&*self.query(text, title_boost)?, &collector)?;
        // Ids come from the fast-field column: reading stored documents would
        // decompress a block per hit.
        Ok(top.into_iter().filter_map(|(_, a)| self.columns[a.segment_ord as usize].first(a.doc_id)).collect())
    }
}
