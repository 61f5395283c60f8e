//! The index: writes (upserts keyed by `kind:id`, committed with the outbox
//! cursor as payload) and searches with filters, facets and snippets. Caching
//! results is the engine's job (its `Cache` seam), keyed by [`SearchIndex::cursor`].

use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};
use wantloop_core::{Demand, GeoPoint, Offer};

use crate::category_counts::CategoryCounts;
use crate::columns::{MatchHit, SegmentColumns};
use crate::doc_freqs::{CachedStats, DocFreqs};
use crate::fields::{Fields, schema};
use crate::listed::{ListedPool, MAX_LISTED};
use crate::query::{MATCH_QUERY_POSTINGS, QueryBuilder, QueryWeights, weighted_clauses};
use crate::reach::{PriceRule, Reach, WithinReach};
use crate::request::{Hit, Kind, SearchRequest, SearchResults};
use crate::synonyms::Synonyms;
use crate::upkeep::{UpkeepThread, on_lowered_thread};
use crate::{SearchError, analyzer, cells, newest, pool};

/// The deepest hit a search can page to (`offset + limit`): ranking more
/// would cost memory and time in proportion, for pages nobody reads.
pub const MAX_DEPTH: usize = 10_000;

/// The version of the analysis documents are indexed with, recorded in every
/// commit: an index written with another one is rebuilt from the store.
/// 2: the recall field holds CJK characters and bigrams (was: bigrams and words).
/// 3: documents carry their party, demands what they pay and how far they reach.
/// 4: documents carry their grid cells, demands the cells they reach.
/// 5: documents carry their matcher pools (`pool.rs`).
const ANALYSIS_VERSION: u32 = 5;

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

/// A writer that could not be had: held by another process, or a fault.
fn writer_error(e: tantivy::TantivyError) -> SearchError {
    match e {
        tantivy::TantivyError::LockFailure(_, _) => {
            SearchError::Locked("another process (a running `wantloop serve`?) holds its writer".into())
        }
        e => SearchError::Index(e),
    }
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    /// The last committed cursor, kept here so a read does not load the metas file.
    cursor: AtomicI64,
    weights: QueryWeights,
    /// Applied to every query this index builds (`synonyms.rs`); swapped
    /// whole when an operator changes the list.
    /// The operators' list version it includes (0: the bundled one alone).
    synonyms: std::sync::RwLock<(i64, Arc<Synonyms>)>,
    /// The analysis of the documents in the index (older ones: terms that do
    /// not match today's queries); becomes the current one when cleared.
    analysis: AtomicU32,
    /// Held by whoever applies outbox batches, so batches land in order.
    applying: tokio::sync::Mutex<()>,
    /// Outbox events the indexer could not read (each also logged).
    undecodable: std::sync::atomic::AtomicU64,
    /// The fast-field columns of the newest searcher's segments (see
    /// `SegmentColumns` and [`SearchIndex::columns`]).
    columns: Mutex<ColumnsCache>,
    /// Most postings a matcher lists its pool from (`listed.rs`).
    listing_limit: AtomicU64,
    /// Document frequencies of the current searcher generation.
    doc_freqs: DocFreqs,
    /// The lowered thread background commits run on, started at the first.
    upkeep: std::sync::OnceLock<UpkeepThread>,
}

const WRITER_HEAP: usize = 200_000_000;

/// The columns of the newest searcher generation seen, by segment ordinal
/// and by segment (a column does not change while its segment lives; deletes
/// are the alive bitset's business).
#[derive(Default)]
struct ColumnsCache {
    generation: Option<u64>,
    by_ord: Arc<[SegmentColumns]>,
    by_segment: std::collections::HashMap<tantivy::index::SegmentId, SegmentColumns>,
}

impl SearchIndex {
    fn from_index(index: Index, threads: usize) -> Result<Self, SearchError> {
        analyzer::register(&index);
        let (_, f) = schema();
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        // Created on a lowered thread: its indexing and merge threads inherit
        // the low priority (`upkeep.rs`).
        let writer = on_lowered_thread(|| index.writer_with_num_threads(threads, WRITER_HEAP)).map_err(writer_error)?;
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
            synonyms: std::sync::RwLock::new((0, Arc::new(Synonyms::bundled()))),
            analysis: AtomicU32::new(analysis),
            applying: tokio::sync::Mutex::new(()),
            undecodable: std::sync::atomic::AtomicU64::new(0),
            columns: Mutex::new(ColumnsCache::default()),
            listing_limit: AtomicU64::new(MAX_LISTED),
            doc_freqs: DocFreqs::default(),
            upkeep: std::sync::OnceLock::new(),
        })
    }

    /// Opens the index in `dir`, creating it (empty, cursor 0) if absent.
    pub fn open_or_create(dir: &Path) -> Result<Self, SearchError> {
        let folder_error = |e: std::io::Error| SearchError::Open(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(folder_error)?;
        let (s, _) = schema();
        let open = || tantivy::directory::MmapDirectory::open(dir).map_err(|e| SearchError::Open(e.to_string()));
        let index = match Index::open_or_create(open()?, s.clone()) {
            Ok(index) => index,
            // An index of an older schema (fields added since): derived data,
            // so it is started anew and refilled from the store, unless
            // another process still writes it.
            Err(tantivy::TantivyError::SchemaError(_)) => {
                let old = Index::open(open()?)?;
                drop(old.writer_with_num_threads::<TantivyDocument>(1, 15_000_000).map_err(writer_error)?);
                drop(old);
                tracing::warn!(dir = %dir.display(), "the search index has an older schema; rebuilding it");
                std::fs::remove_dir_all(dir).map_err(folder_error)?;
                std::fs::create_dir_all(dir).map_err(folder_error)?;
                let index = Self::from_index(Index::create_in_dir(dir, s)?, 2)?;
                // Empty, and marked as of no analysis: the opener rebuilds it
                // from the store's rows (faster than replaying the outbox).
                index.analysis.store(0, Ordering::Release);
                return Ok(index);
            }
            Err(e) => return Err(e.into()),
        };
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
        QueryBuilder { index: &self.index, fields: self.f, weights: self.weights, synonyms: self.synonyms() }
    }

    /// The synonyms queries are expanded with (the bundled bilingual
    /// dictionary until [`SearchIndex::set_synonyms`]).
    pub fn synonyms(&self) -> Arc<Synonyms> {
        self.synonyms.read().unwrap_or_else(|e| e.into_inner()).1.clone()
    }

    /// The version of the operators' list in force (0: none).
    pub fn synonyms_version(&self) -> i64 {
        self.synonyms.read().unwrap_or_else(|e| e.into_inner()).0
    }

    /// Replaces the synonyms every query from now on is expanded with, if
    /// `version` is not older than the one in force (an old event replayed
    /// after a newer list was loaded changes nothing); answers whether it did.
    pub fn set_synonyms(&self, version: i64, synonyms: Synonyms) -> bool {
        let mut current = self.synonyms.write().unwrap_or_else(|e| e.into_inner());
        if version < current.0 {
            return false;
        }
        *current = (version, Arc::new(synonyms));
        true
    }

    /// Sets the most postings a matcher lists its pool from (default
    /// [`MAX_LISTED`]); a larger pool is searched by a tantivy query. 0
    /// always queries: tests run both ways and compare.
    pub fn set_listing_limit(&self, postings: u64) {
        self.listing_limit.store(postings, Ordering::Relaxed);
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
            for c in cells::of_point(p) {
                doc.add_text(f.cell, c);
            }
        }
    }

    /// Matches documents carrying any of `terms` in `field` (no score).
    fn any_term(field: tantivy::schema::Field, terms: &[String]) -> Box<dyn Query> {
        let clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .map(|t| {
                let q: Box<dyn Query> =
                    Box::new(TermQuery::new(Term::from_field_text(field, t), IndexRecordOption::Basic));
                (Occur::Should, q)
            })
            .collect();
        Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(clauses)), 0.0))
    }

    pub fn upsert_offer(&self, o: &Offer) -> Result<(), SearchError> {
        let f = self.f;
        let key = Self::key(Kind::Offer, o.id);
        let mut d = doc!(
            f.key => key.clone(), f.kind => "offer", f.id => o.id, f.text => o.text.clone(), f.bigrams => o.text.clone(),
            f.category => o.category.clone(),
            f.status => o.status.as_str(), f.price => o.price, f.created_at => o.created_at,
            f.party => o.provider.clone(),
        );
        Self::point(&mut d, &f, o.location);
        for t in pool::of_offer(o.status.as_str(), &o.category, o.location) {
            d.add_text(f.pool, t);
        }
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
            f.category => dm.category.clone(),
            f.status => dm.status.as_str(), f.created_at => dm.created_at,
            f.party => dm.requester.clone(), f.pays_up_to => dm.budget.unwrap_or(i64::MAX),
        );
        if let Some(b) = dm.budget {
            d.add_i64(f.price, b);
        }
        if let Some(km) = dm.max_distance_km {
            d.add_f64(f.max_km, km);
        }
        Self::point(&mut d, &f, dm.location);
        for t in pool::of_demand(dm.status.as_str(), &dm.category, dm.location, dm.max_distance_km) {
            d.add_text(f.pool, t);
        }
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
        let started = std::time::Instant::now();
        {
            let mut w = self.writer()?;
            let mut prepared = w.prepare_commit()?;
            let payload = CommitPayload { cursor, analysis: self.analysis.load(Ordering::Acquire) };
            prepared.set_payload(&serde_json::to_string(&payload).map_err(|e| SearchError::Io(e.to_string()))?);
            prepared.commit()?;
        }
        self.reader.reload()?;
        // New segments' columns are decoded here, on the committing thread
        // (the lowered upkeep thread for the background indexer), not by the
        // first request that searches them.
        self.columns(&self.reader.searcher());
        self.cursor.store(cursor, Ordering::Release);
        tracing::debug!(cursor, ms = started.elapsed().as_millis() as u64, "search index committed");
        Ok(())
    }

    /// As [`SearchIndex::commit`], on the index's lowered upkeep thread, so
    /// the indexing threads the commit starts stay lowered and the caller's
    /// thread is not held: for the background indexer, whose commits no
    /// request waits for (`upkeep.rs`).
    pub async fn commit_in_background(self: &Arc<Self>, cursor: i64) -> Result<(), SearchError> {
        let stopped = |_| SearchError::Io("the index upkeep thread has stopped".into());
        let upkeep = match self.upkeep.get() {
            Some(u) => u,
            None => {
                let started = UpkeepThread::start().map_err(|e| SearchError::Io(e.to_string()))?;
                self.upkeep.get_or_init(|| started)
            }
        };
        let index = Arc::clone(self);
        upkeep.run(move || index.commit(cursor)).await.map_err(stopped)?
    }

    /// Merges every segment into one and waits (after a bulk load: each
    /// commit of a long catch-up left a segment, and a query pays for every
    /// segment in term lookups and column headers). Returns the segments merged.
    pub fn merge_segments(&self) -> Result<usize, SearchError> {
        let ids = self.index.searchable_segment_ids()?;
        if ids.len() < 2 {
            return Ok(ids.len());
        }
        // Segments that tantivy's background merges are working on cannot be
        // merged again: wait for those first, with a bound.
        for _ in 0..50 {
            let merging = self.writer()?.merge(&self.index.searchable_segment_ids()?);
            match merging.wait() {
                Ok(_) => {
                    self.writer()?.garbage_collect_files().wait()?;
                    self.reader.reload()?;
                    return Ok(ids.len());
                }
                Err(tantivy::TantivyError::InvalidArgument(_)) => {
                    std::thread::sleep(std::time::Duration::from_millis(200))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(SearchError::Io("the index's segments were still being merged after 10 s".into()))
    }

    /// The columns of `searcher`'s segments, by segment ordinal. A segment's
    /// columns are opened once and kept while it is searchable: a commit (once
    /// a second under writes) adds a small segment beside unchanged ones, and
    /// reopening the large ones' columns at every new generation, under a
    /// lock every query waits on, held up all requests at each commit. New
    /// segments are opened outside the lock.
    fn columns(&self, searcher: &tantivy::Searcher) -> Arc<[SegmentColumns]> {
        let generation = searcher.generation().generation_id();
        let known = {
            let cached = self.columns.lock().unwrap_or_else(|e| e.into_inner());
            if cached.generation == Some(generation) {
                return cached.by_ord.clone();
            }
            cached.by_segment.clone()
        };
        let segments = searcher.segment_readers();
        let by_ord: Arc<[SegmentColumns]> = segments
            .iter()
            .map(|s| known.get(&s.segment_id()).cloned().unwrap_or_else(|| SegmentColumns::open(s)))
            .collect();
        let mut cached = self.columns.lock().unwrap_or_else(|e| e.into_inner());
        if cached.generation.is_none_or(|g| g < generation) {
            let by_segment = segments.iter().map(|s| s.segment_id()).zip(by_ord.iter().cloned()).collect();
            *cached = ColumnsCache { generation: Some(generation), by_ord: by_ord.clone(), by_segment };
        }
        by_ord
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

    /// The price and distance rules of a request, applied inside the search.
    fn admission(r: &SearchRequest) -> (Reach, PriceRule) {
        let reach =
            r.near.map_or(Reach::Anywhere, |n| Reach::Within { at: GeoPoint { lat: n.lat, lon: n.lon }, km: n.km });
        let price = match (r.price_min, r.price_max) {
            (None, None) => PriceRule::Any,
            (min, max) => PriceRule::Between { min, max },
        };
        (reach, price)
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
        // The grid cells of a circle narrow the search in the index; price and
        // the exact distance are checked by `WithinReach` on the documents the
        // query matched (see `admission`): a range query would scan a column.
        if let Some(n) = r.near
            && let Some(cells) = cells::covering(GeoPoint { lat: n.lat, lon: n.lon }, n.km)
        {
            out.push((Occur::Must, Self::any_term(f.cell, &cells)));
        }
        // Filters decide what matches, never how well: they add nothing to
        // the score, so BM25 relative to the best hit stays BM25.
        out.into_iter().map(|(o, q)| (o, Box::new(ConstScoreQuery::new(q, 0.0)) as Box<dyn Query>)).collect()
    }

    /// Offers relevant to a demand's text by BM25, every hard filter of the
    /// demand applied inside the search: available offers of its category,
    /// within its budget, not its requester's own, within its radius. The
    /// query is the text's rarest terms within [`MATCH_QUERY_POSTINGS`], never
    /// syntax, so its cost does not grow with the text or the catalogue.
    /// (offer id, score), best first.
    pub fn offers_for_demand(&self, d: &Demand, limit: usize) -> Result<Vec<MatchHit>, SearchError> {
        let (reach, circle) = match (d.max_distance_km, d.location) {
            (None, _) => (Reach::Anywhere, None),
            (Some(km), Some(at)) => (Reach::Within { at, km }, Some((at, km))),
            // A radius around no place: nothing is within reach.
            (Some(_), None) => return Ok(Vec::new()),
        };
        let pool = pool::offers_within(&d.category, circle);
        let price = PriceRule::Between { min: None, max: d.budget };
        self.matching(&d.text, &d.requester, &pool, (reach, price), limit)
    }

    /// Open demands an offer could serve, by BM25 of the offer's text, with
    /// the hard filters inside the search as in [`Self::offers_for_demand`]:
    /// open demands of its category that pay its price, not its provider's
    /// own, whose radius (if any) reaches it. (demand id, score), best first.
    pub fn demands_for_offer(&self, o: &Offer, limit: usize) -> Result<Vec<MatchHit>, SearchError> {
        let pool = pool::demands_reaching(&o.category, o.location);
        let admission = (Reach::DemandRadius { from: o.location }, PriceRule::PaysAtLeast(o.price));
        self.matching(&o.text, &o.provider, &pool, admission, limit)
    }

    /// The best `limit` documents for a matcher: by BM25 of `text`'s rarest
    /// terms among those carrying one of the `pool` terms (`pool.rs`) that are
    /// not `party`'s own and pass the reach and price rules; topped up to
    /// `limit`, when fewer share a term, with the newest that pass (score 0).
    /// A pool of at most [`Self::set_listing_limit`] postings is listed and
    /// scored by hand (`listed.rs`); a larger one is left to a tantivy query
    /// and `newest.rs`. Both read a bounded number of documents.
    fn matching(
        &self,
        text: &str,
        party: &str,
        pool: &[String],
        admission: (Reach, PriceRule),
        limit: usize,
    ) -> Result<Vec<MatchHit>, SearchError> {
        let searcher = self.reader.searcher();
        let stats = self.doc_freqs.on(&searcher);
        let terms = self.builder().informative_terms(&stats, text, MATCH_QUERY_POSTINGS)?;
        let columns = self.columns(&searcher);
        let hit =
            |addr: DocAddress, relevance: f32| columns.get(addr.segment_ord as usize)?.hit(addr.doc_id, relevance);
        let listing_limit = self.listing_limit.load(Ordering::Relaxed);
        let listed = ListedPool::list(&searcher, (self.f.pool, pool), (self.f.party, party), listing_limit)?;
        let found = match &listed {
            Some(_) if terms.is_empty() => Vec::new(),
            Some(listed) => listed.best(&stats, &columns, &terms, admission, limit)?,
            None => self.matching_by_query(&stats, &columns, &terms, party, pool, admission, limit)?,
        };
        let mut out: Vec<MatchHit> = found.iter().filter_map(|(score, addr)| hit(*addr, *score)).collect();
        if out.len() < limit {
            // Few feasible documents share a rare term: the rest are feasible
            // ones that share none (text relevance 0), newest first, so a
            // text in other words still finds what it could take.
            let skip: std::collections::HashSet<DocAddress> = found.iter().map(|(_, a)| *a).collect();
            let need = limit - out.len();
            let newest = match &listed {
                Some(listed) => listed.newest(&searcher, &columns, admission, need, &skip),
                None => {
                    let query = self.pool_query(party, pool, None);
                    newest::newest_admitted(&searcher, &columns, &query, admission, need, &skip)?
                }
            };
            out.extend(newest.into_iter().filter_map(|addr| hit(addr, 0.0)));
        }
        Ok(out)
    }

    /// Documents carrying one of the `pool` terms, not `party`'s own, and
    /// matching `also` (if any).
    fn pool_query(&self, party: &str, pool: &[String], also: Option<Box<dyn Query>>) -> BooleanQuery {
        let not_own: Box<dyn Query> =
            Box::new(TermQuery::new(Term::from_field_text(self.f.party, party), IndexRecordOption::Basic));
        let mut all: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Self::any_term(self.f.pool, pool))];
        all.extend(also.map(|q| (Occur::Must, q)));
        all.push((Occur::MustNot, not_own));
        BooleanQuery::new(all)
    }

    /// [`Self::matching`]'s text step as a tantivy query, for a pool too
    /// large to list: its cost follows the rare terms' postings.
    #[allow(clippy::too_many_arguments)]
    fn matching_by_query(
        &self,
        stats: &CachedStats,
        columns: &[SegmentColumns],
        terms: &[(Term, f32)],
        party: &str,
        pool: &[String],
        (reach, price): (Reach, PriceRule),
        limit: usize,
    ) -> Result<Vec<(f32, DocAddress)>, SearchError> {
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let query = self.pool_query(party, pool, Some(Box::new(BooleanQuery::new(weighted_clauses(terms)))));
        let top = TopDocs::with_limit(limit.max(1)).order_by_score();
        let collector = WithinReach { reach, price, columns, inner: top };
        Ok(stats.searcher().search_with_statistics_provider(&query, &collector, stats)?)
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
        let fetch = r.offset + limit + 1;
        // The exact circle is applied inside the search, so hits, total and
        // facets all count only what is within reach.
        let (reach, price) = Self::admission(r);
        let columns = self.columns(&searcher);
        let (top, total, facets) = searcher.search_with_statistics_provider(
            &query,
            &WithinReach {
                reach,
                price,
                columns: &columns,
                inner: (TopDocs::with_limit(fetch).order_by_score(), Count, CategoryCounts { columns: &columns }),
            },
            &self.doc_freqs.on(&searcher),
        )?;
        let snippets = SnippetGenerator::create(&searcher, &*text_query, f.text).ok();
        let mut hits = Vec::new();
        for (score, addr) in top {
            if Some(addr) == exclude {
                continue;
            }
            let d: TantivyDocument = searcher.doc(addr)?;
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
        Ok(SearchResults { total: total - usize::from(exclude.is_some()), hits, facets })
    }

    /// The prices of the documents `r` matches (its text, filters and
    /// circle; not `more_like`, `limit` or `offset`): count, range and a
    /// bounded sample (see `prices.rs`).
    pub fn prices(&self, r: &SearchRequest) -> Result<crate::PriceSample, SearchError> {
        let searcher = self.reader.searcher();
        let mut clauses = vec![(Occur::Must, self.builder().user_query(&r.q)?)];
        clauses.extend(self.filters(r));
        let query = BooleanQuery::new(clauses);
        let (reach, price) = Self::admission(r);
        let columns = self.columns(&searcher);
        let prices = searcher.search_with_statistics_provider(
            &query,
            &WithinReach { reach, price, columns: &columns, inner: crate::prices::Prices { columns: &columns } },
            &self.doc_freqs.on(&searcher),
        )?;
        Ok(prices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_segments_keeps_documents_and_cursor() {
        let dir = tempfile::tempdir().unwrap();
        {
            let idx = SearchIndex::open_or_create(dir.path()).unwrap();
            for batch in 0..3 {
                for i in 0..10 {
                    idx.upsert_offer(&Offer::available(batch * 10 + i, "p", "九成新自行车", "bicycles", 100)).unwrap();
                }
                idx.commit(batch + 1).unwrap();
            }
            assert!(idx.index.searchable_segment_ids().unwrap().len() > 1);
            assert!(idx.merge_segments().unwrap() > 1);
            assert_eq!(idx.index.searchable_segment_ids().unwrap().len(), 1);
            assert_eq!(idx.num_docs(), 30);
        }
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        assert_eq!((idx.cursor(), idx.num_docs()), (3, 30), "the merge kept the committed cursor");
        assert!(!idx.needs_rebuild());
    }

    #[test]
    fn an_index_of_an_older_schema_is_started_anew_and_asks_to_be_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut b = tantivy::schema::Schema::builder();
            let key = b.add_text_field("key", tantivy::schema::STRING);
            let index = Index::create_in_dir(dir.path(), b.build()).unwrap();
            let mut w: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
            w.add_document(doc!(key => "offer:1")).unwrap();
            w.commit().unwrap();
        }
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        assert!(idx.needs_rebuild());
        assert_eq!((idx.num_docs(), idx.cursor()), (0, 0));
        idx.upsert_offer(&Offer::available(1, "p", "九成新自行车", "bicycles", 100)).unwrap();
        idx.clear().unwrap();
        idx.commit(3).unwrap();
        drop(idx);
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        assert!(!idx.needs_rebuild());
        assert_eq!(idx.cursor(), 3);
    }

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
