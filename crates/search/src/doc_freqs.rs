//! Document frequencies remembered per searcher generation. A matcher looks
//! up every term of a text (up to 96 in two fields) to keep the rarest, and
//! BM25 needs them again for the terms kept; at 2M documents those term
//! dictionary lookups (an FST walk per term and segment) were a sixth of a
//! matcher's CPU. Texts share most of their terms, so within one generation
//! most lookups repeat. The numbers stay exact: a searcher of a newer
//! generation (after a commit) starts an empty table, and one of an older
//! generation reads the index itself.

use std::collections::HashMap;
use std::sync::Mutex;

use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

/// Most terms remembered per generation: about 10 MB; a full table is
/// emptied and refilled.
const MAX_TERMS: usize = 200_000;

#[derive(Default)]
struct Table {
    generation: u64,
    freqs: HashMap<Term, u64>,
    tokens: HashMap<Field, u64>,
}

/// The remembered frequencies of one index.
#[derive(Default)]
pub(crate) struct DocFreqs {
    table: Mutex<Table>,
}

impl DocFreqs {
    /// Statistics for scoring on `searcher`, through this table.
    pub fn on<'a>(&'a self, searcher: &'a Searcher) -> CachedStats<'a> {
        CachedStats { searcher, freqs: self }
    }

    /// `read` of `key` in the table of `searcher`'s generation, computed
    /// and remembered if absent.
    fn remembered<K: std::hash::Hash + Eq + Clone>(
        &self,
        searcher: &Searcher,
        key: &K,
        map: fn(&mut Table) -> &mut HashMap<K, u64>,
        read: impl FnOnce() -> tantivy::Result<u64>,
    ) -> tantivy::Result<u64> {
        let generation = searcher.generation().generation_id();
        {
            let mut t = self.table.lock().unwrap_or_else(|e| e.into_inner());
            if generation < t.generation {
                drop(t);
                return read();
            }
            if generation > t.generation {
                *t = Table { generation, ..Table::default() };
            }
            if let Some(n) = map(&mut t).get(key) {
                return Ok(*n);
            }
        }
        let n = read()?;
        let mut t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if t.generation == generation {
            if t.freqs.len() >= MAX_TERMS {
                t.freqs.clear();
            }
            map(&mut t).insert(key.clone(), n);
        }
        Ok(n)
    }
}

/// [`Bm25StatisticsProvider`] of a searcher, its document frequencies
/// and token counts remembered in a [`DocFreqs`].
pub(crate) struct CachedStats<'a> {
    searcher: &'a Searcher,
    freqs: &'a DocFreqs,
}

impl CachedStats<'_> {
    pub fn searcher(&self) -> &Searcher {
        self.searcher
    }
}

impl Bm25StatisticsProvider for CachedStats<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        self.freqs.remembered(self.searcher, &field, |t| &mut t.tokens, || self.searcher.total_num_tokens(field))
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        self.searcher.total_num_docs()
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        self.freqs.remembered(self.searcher, term, |t| &mut t.freqs, || self.searcher.doc_freq(term))
    }
}

#[cfg(test)]
mod tests {
    use tantivy::schema::{STRING, Schema};
    use tantivy::{Index, IndexWriter, doc};

    use super::*;

    #[test]
    fn frequencies_follow_each_new_generation_and_old_searchers_read_their_own() {
        let mut b = Schema::builder();
        let f = b.add_text_field("t", STRING);
        let index = Index::create_in_ram(b.build());
        let mut w: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        w.add_document(doc!(f => "bike")).unwrap();
        w.commit().unwrap();
        let reader = index.reader_builder().reload_policy(tantivy::ReloadPolicy::Manual).try_into().unwrap();
        let freqs = DocFreqs::default();
        let bike = Term::from_field_text(f, "bike");
        let old = reader.searcher();
        assert_eq!(freqs.on(&old).doc_freq(&bike).unwrap(), 1);
        assert_eq!(freqs.on(&old).total_num_tokens(f).unwrap(), old.total_num_tokens(f).unwrap());
        w.add_document(doc!(f => "bike")).unwrap();
        w.add_document(doc!(f => "bike")).unwrap();
        w.commit().unwrap();
        reader.reload().unwrap();
        let new = reader.searcher();
        assert_eq!(freqs.on(&new).doc_freq(&bike).unwrap(), 3, "a new generation is not served the old count");
        assert_eq!(freqs.on(&new).doc_freq(&bike).unwrap(), 3);
        assert_eq!(freqs.on(&old).doc_freq(&bike).unwrap(), 1, "an older searcher counts its own documents");
    }
}
