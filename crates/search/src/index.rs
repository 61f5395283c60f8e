//! The index: writes (upserts keyed by `kind:id`, committed with the outbox
//! cursor as payload) and searches with filters, facets and snippets. Caching
//! results is the engine's job (its `Cache` seam), keyed by [`SearchIndex::cursor`].

use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{Facet, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};
use wantloop_core::{Demand, GeoPoint, Offer};

use crate::fields::{Fields, schema};
use crate::query::{QueryBuilder, QueryWeights};
use crate::request::{Hit, Kind, SearchRequest, SearchResults};
use crate::{SearchError, analyzer};

/// The deepest hit a search can page to (`offset + limit`): ranking more
/// would cost memory and time in proportion, for pages nobody reads.
pub const MAX_DEPTH: usize = 10_000;

/// The version of the analysis documents are indexed with, recorded in every
/// commit: an index written with another one is rebuilt from the store.
/// 2: the recall field holds CJK characters and bigrams (was: bigrams and words).
const ANALYSIS_VERSION: u32 = 2;

/// What each commit records: the last outbox event applied, and the analysis.
#[derive(serde::Serialize, serde::Deserialize)]
struct CommitPayload {
    cursor: i64,
    analysis: u32,
}

/// Reads a commit payload; version 1 wrote the bare cursor.
fn read_payload(p: &str) -> Option<CommitPayload> {
    serde_json::from_str(p).ok().or_else(|| p.parse().ok().map(|cursor| CommitPayload { cursor, analysis: 1 }))
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    /// The last committed cursor, kept here so a read does not load the metas file.
    cursor: AtomicI64,
    weights: QueryWeights,
    /// The analysis of the documents in the index (older ones: terms that do
    /// not match today's queries); becomes the current one when cleared.
    analysis: AtomicU32,
    /// Held by whoever applies outbox batches, so batches land in order.
    applying: tokio::sync::Mutex<()>,
    /// Outbox events the indexer could not read (each also logged).
    undecodable: std::sync::atomic::AtomicU64,
}

const WRITER_HEAP: usize = 50_000_000;

impl SearchIndex {
    fn from_index(index: Index, threads: usize) -> Result<Self, SearchError> {
        analyzer::register(&index);
        let (_, f) = schema();
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer = index.writer_with_num_threads(threads, WRITER_HEAP).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(_, _) => {
                SearchError::Locked("another process (a running `wantloop serve`?) holds its writer".into())
            }
            e => SearchError::Index(e),
        })?;
        let payload = index.load_metas().ok().and_then(|m| m.payload).and_then(|p| read_payload(&p));
        let cursor = payload.as_ref().map_or(0, |p| p.cursor);
        let analysis = payload.map_or(ANALYSIS_VERSION, |p| p.analysis);
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(writer),
            f,
            cursor: AtomicI64::new(cursor),
            weights: QueryWeights::default(),
            analysis: AtomicU32::new(analysis),
            applying: tokio::sync::Mutex::new(()),
            undecodable: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Opens the index in `dir`, creating it (empty, cursor 0) if absent.
    pub fn open_or_create(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError::Open(format!("{}: {e}", dir.display())))?;
        let (s, _) = schema();
        let directory = tantivy::directory::MmapDirectory::open(dir).map_err(|e| SearchError::Open(e.to_string()))?;
        let index = Index::open_or_create(directory, s)?;
        Self::from_index(index, 2)
    }

    /// An index in RAM, written by one thread so that a bulk load ends as one
    /// segment (queries then set up one scorer per term, not one per segment).
    pub fn in_memory() -> Result<Self, SearchError> {
        Self::from_index(Index::create_in_ram(schema().0), 1)
    }

    /// Whether the index was written with another analysis and must be
    /// rebuilt (cleared and refilled) before it answers.
    pub fn needs_rebuild(&self) -> bool {
        self.analysis.load(Ordering::Acquire) != ANALYSIS_VERSION
    }

    /// Replaces the weights of the query builder (for tuning studies).
    pub fn with_weights(mut self, weights: QueryWeights) -> Self {
        self.weights = weights;
        self
    }

    pub(crate) fn builder(&self) -> QueryBuilder<'_> {
        QueryBuilder { index: &self.index, fields: self.f, weights: self.weights }
    }

    /// The last outbox event applied (from the latest commit's payload).
    pub fn cursor(&self) -> i64 {
        self.cursor.load(Ordering::Acquire)
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>, SearchError> {
        self.writer.lock().map_err(|_| SearchError::Io("index writer poisoned".into()))
    }

    fn key(kind: Kind, id: i64) -> String {
        format!("{}:{id}", kind.as_str())
    }

    fn point(doc: &mut TantivyDocument, f: &Fields, p: Option<GeoPoint>) {
        if let Some(p) = p {
            doc.add_f64(f.lat, p.lat);
            doc.add_f64(f.lon, p.lon);
        }
    }

    pub fn upsert_offer(&self, o: &Offer) -> Result<(), SearchError> {
        let f = self.f;
        let key = Self::key(Kind::Offer, o.id);
        let mut d = doc!(
            f.key => key.clone(), f.kind => "offer", f.id => o.id, f.text => o.text.clone(), f.bigrams => o.text.clone(),
            f.category => o.category.clone(), f.category_facet => Facet::from_path([o.category.as_str()]),
            f.status => o.status.as_str(), f.price => o.price, f.created_at => o.created_at,
        );
        Self::point(&mut d, &f, o.location);
        let w = self.writer()?;
        w.delete_term(Term::from_field_text(f.key, &key));
        w.add_document(d)?;
        Ok(())
    }

    pub fn upsert_demand(&self, dm: &Demand) -> Result<(), SearchError> {
        let f = self.f;
        let key = Self::key(Kind::Demand, dm.id);
        let mut d = doc!(
            f.key => key.clone(), f.kind => "demand", f.id => dm.id, f.text => dm.text.clone(), f.bigrams => dm.text.clone(),
            f.category => dm.category.clone(), f.category_facet => Facet::from_path([dm.category.as_str()]),
            f.status => dm.status.as_str(), f.created_at => dm.created_at,
        );
        if let Some(b) = dm.budget {
            d.add_i64(f.price, b);
        }
        Self::point(&mut d, &f, dm.location);
        let w = self.writer()?;
        w.delete_term(Term::from_field_text(f.key, &key));
        w.add_document(d)?;
        Ok(())
    }

    /// Adds a plain document (for evaluation corpora): `id` is the caller's.
    pub fn add_plain(&self, id: i64, title: &str, text: &str) -> Result<(), SearchError> {
        let f = self.f;
        let w = self.writer()?;
        w.add_document(doc!(f.kind => "offer", f.id => id, f.title => title, f.text => text))?;
        Ok(())
    }

    /// Deletes every document; the next commit may set any cursor (a
    /// rebuild starts over from the store's rows).
    pub fn clear(&self) -> Result<(), SearchError> {
        self.writer()?.delete_all_documents()?;
        self.analysis.store(ANALYSIS_VERSION, Ordering::Release);
        self.cursor.store(0, Ordering::Release);
        Ok(())
    }

    /// The lock the indexer holds while it reads a batch of events, applies
    /// it and commits, so two batches never interleave.
    pub fn applying(&self) -> &tokio::sync::Mutex<()> {
        &self.applying
    }

    /// Counts an outbox event that could not be read into the index.
    pub fn count_undecodable(&self) {
        self.undecodable.fetch_add(1, Ordering::Relaxed);
    }

    /// Outbox events the indexer could not read since this process started.
    pub fn undecodable_events(&self) -> u64 {
        self.undecodable.load(Ordering::Relaxed)
    }

    /// Commits pending writes with `cursor` (the last event applied) and makes
    /// them visible. The cursor only moves forward: an older cursor keeps the
    /// current one (since the last [`SearchIndex::clear`]).
    pub fn commit(&self, cursor: i64) -> Result<(), SearchError> {
        let cursor = cursor.max(self.cursor());
        {
            let mut w = self.writer()?;
            let mut prepared = w.prepare_commit()?;
            let payload = CommitPayload { cursor, analysis: self.analysis.load(Ordering::Acquire) };
            prepared.set_payload(&serde_json::to_string(&payload).map_err(|e| SearchError::Io(e.to_string()))?);
            prepared.commit()?;
        }
        self.reader.reload()?;
        self.cursor.store(cursor, Ordering::Release);
        Ok(())
    }

    pub(crate) fn fields(&self) -> Fields {
        self.f
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    pub(crate) fn reader(&self) -> &IndexReader {
        &self.reader
    }

    fn filters(&self, r: &SearchRequest) -> Vec<(Occur, Box<dyn Query>)> {
        let f = self.f;
        let term = |field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
        };
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(k) = r.kind {
            out.push((Occur::Must, term(f.kind, k.as_str())));
        }
        if let Some(c) = &r.category {
            out.push((Occur::Must, term(f.category, c)));
        }
        if let Some(s) = &r.status {
            out.push((Occur::Must, term(f.status, s)));
        }
        if r.price_min.is_some() || r.price_max.is_some() {
            let lo = r.price_min.map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_i64(f.price, v)));
            let hi = r.price_max.map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_i64(f.price, v)));
            out.push((Occur::Must, Box::new(RangeQuery::new(lo, hi))));
        }
        if let Some(n) = r.near {
            // A bounding box in the index; the exact circle is checked on the hits.
            let dlat = n.km / 111.0;
            let dlon = n.km / (111.0 * n.lat.to_radians().cos().abs().max(0.01));
            let range = |field, c: f64, d: f64| -> Box<dyn Query> {
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_f64(field, c - d)),
                    Bound::Included(Term::from_field_f64(field, c + d)),
                ))
            };
            out.push((Occur::Must, range(f.lat, n.lat, dlat)));
            out.push((Occur::Must, range(f.lon, n.lon, dlon)));
        }
        out
    }

    /// Offers relevant to a demand's text by BM25, with the demand's hard
    /// filters applied in the index (available offers of its category within
    /// its budget): (offer id, score), best first. The text is read as a bag of
    /// words, never as query syntax.
    pub fn offers_for_demand(&self, d: &Demand, limit: usize) -> Result<Vec<(i64, f32)>, SearchError> {
        let text = self.builder().text_query(&d.text)?;
        let r = SearchRequest {
            kind: Some(Kind::Offer),
            category: Some(d.category.clone()),
            status: Some("available".into()),
            price_max: d.budget,
            ..Default::default()
        };
        let mut all = vec![(Occur::Must, text)];
        all.extend(self.filters(&r));
        let searcher = self.reader.searcher();
        let top = searcher.search(&BooleanQuery::new(all), &TopDocs::with_limit(limit.max(1)).order_by_score())?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let column = searcher.segment_reader(addr.segment_ord).fast_fields().i64("id")?;
            if let Some(id) = column.first(addr.doc_id) {
                out.push((id, score));
            }
        }
        Ok(out)
    }

    fn find_offer(&self, id: i64) -> Result<Option<DocAddress>, SearchError> {
        let searcher = self.reader.searcher();
        let q =
            TermQuery::new(Term::from_field_text(self.f.key, &Self::key(Kind::Offer, id)), IndexRecordOption::Basic);
        let top = searcher.search(&q, &TopDocs::with_limit(1).order_by_score())?;
        Ok(top.first().map(|(_, a)| *a))
    }

    pub fn search(&self, r: &SearchRequest) -> Result<SearchResults, SearchError> {
        let f = self.f;
        let searcher = self.reader.searcher();
        if r.offset + r.limit.clamp(1, 1_000) > MAX_DEPTH {
            return Err(SearchError::TooDeep { max: MAX_DEPTH });
        }
        let (text_query, exclude): (Box<dyn Query>, Option<DocAddress>) = match r.more_like {
            // More like an offer: its own text as a bag of terms, itself excluded.
            Some(id) => {
                let addr =
                    self.find_offer(id)?.ok_or_else(|| SearchError::Query(format!("offer {id} is not indexed")))?;
                let d: TantivyDocument = searcher.doc(addr)?;
                let text = d.get_first(f.text).and_then(|v| v.as_str()).unwrap_or_default().to_string();
                (self.builder().text_query(&text)?, Some(addr))
            }
            None => (self.builder().user_query(&r.q)?, None),
        };
        let mut clauses = vec![(Occur::Must, text_query.box_clone())];
        clauses.extend(self.filters(r));
        let query = BooleanQuery::new(clauses);
        let limit = r.limit.clamp(1, 1_000);
        // Distance is exact only on hits, so fetch a margin when filtering by it.
        let fetch = if r.near.is_some() { (r.offset + limit) * 4 + 100 } else { r.offset + limit + 1 };
        let mut facets = FacetCollector::for_field("category_facet");
        facets.add_facet(Facet::root());
        let (top, total, facet_counts) =
            searcher.search(&query, &(TopDocs::with_limit(fetch).order_by_score(), Count, facets))?;
        let snippets = SnippetGenerator::create(&searcher, &*text_query, f.text).ok();
        let mut hits = Vec::new();
        for (score, addr) in top {
            if Some(addr) == exclude {
                continue;
            }
            let d: TantivyDocument = searcher.doc(addr)?;
            if let Some(n) = r.near {
                let lat = d.get_first(f.lat).and_then(|v| v.as_f64());
                let lon = d.get_first(f.lon).and_then(|v| v.as_f64());
                let inside = lat.zip(lon).is_some_and(|(lat, lon)| {
                    GeoPoint { lat, lon }.distance_km(&GeoPoint { lat: n.lat, lon: n.lon }) <= n.km
                });
                if !inside {
                    continue;
                }
            }
            let kind = match d.get_first(f.kind).and_then(|v| v.as_str()) {
                Some("demand") => Kind::Demand,
                _ => Kind::Offer,
            };
            let snippet = match &snippets {
                Some(g) => {
                    let s = g.snippet_from_doc(&d);
                    if s.is_empty() {
                        d.get_first(f.text).and_then(|v| v.as_str()).unwrap_or_default().chars().take(120).collect()
                    } else {
                        s.to_html()
                    }
                }
                None => String::new(),
            };
            hits.push(Hit {
                kind,
                id: d.get_first(f.id).and_then(|v| v.as_i64()).unwrap_or_default(),
                score,
                snippet,
                category: d.get_first(f.category).and_then(|v| v.as_str()).unwrap_or_default().to_string(),
                price: d.get_first(f.price).and_then(|v| v.as_i64()),
            });
        }
        let hits: Vec<Hit> = hits.into_iter().skip(r.offset).take(limit).collect();
        let facets = facet_counts.get("/").map(|(facet, n)| (facet.to_path().join("/"), n)).collect();
        Ok(SearchResults { total: total - usize::from(exclude.is_some()), hits, facets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_of_an_older_analysis_asks_to_be_rebuilt_until_cleared() {
        let dir = tempfile::tempdir().unwrap();
        {
            let idx = SearchIndex::open_or_create(dir.path()).unwrap();
            assert!(!idx.needs_rebuild(), "a new index is current");
            // Version 1 committed the bare cursor as its payload.
            let mut w = idx.writer().unwrap();
            let mut prepared = w.prepare_commit().unwrap();
            prepared.set_payload("5");
            prepared.commit().unwrap();
        }
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        assert!(idx.needs_rebuild());
        assert_eq!(idx.cursor(), 5, "the old payload's cursor is still read");
        idx.commit(6).unwrap();
        drop(idx);
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        assert!(idx.needs_rebuild(), "a catch-up commit does not make old documents current");
        idx.clear().unwrap();
        idx.commit(7).unwrap();
        drop(idx);
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        assert!(!idx.needs_rebuild());
        assert_eq!(idx.cursor(), 7);
    }
}
