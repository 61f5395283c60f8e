//! The matcher's query run over a listed pool. A matcher asks for the best
//! documents by BM25 of a few rare terms among those in a pool (`pool.rs`: a
//! union of up to [`crate::cells::MAX_CELLS`] cell terms) that are not one
//! party's own. As a tantivy query that is an intersection of a short list
//! (the rare terms' postings) with a union of long ones, and at 1M offers the
//! union's seeks and buffer refills were a third of a matcher's CPU. Here the
//! pool's postings are read once, front to back (the cheapest way to read a
//! posting list), into a bit set per segment, the party's own are taken out,
//! and each rare term's postings are walked once, scoring only pool members:
//! the same documents and the same scores (a boolean query sums its clauses'
//! BM25) at a fraction of the cost. The listed pool then also serves the
//! top-up, read backwards from its newest end with no windows.
//!
//! The listing costs what the pool holds, so a pool of more than
//! [`MAX_LISTED`] postings (a whole category of a huge catalogue, no radius)
//! is not listed: the caller runs the tantivy query, whose cost follows the
//! rare terms instead. (Hand-written: tantivy has no "score these terms
//! within this document set" query, and its intersection cannot be told to
//! materialise one side.)

use std::collections::HashSet;

use tantivy::query::{EnableScoring, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{BitSet, COLLECT_BLOCK_BUFFER_LEN, DocAddress, DocId, DocSet, Score, Searcher, SegmentReader, Term};

use crate::columns::SegmentColumns;
use crate::doc_freqs::CachedStats;
use crate::newest::MAX_SCANNED;
use crate::reach::{PriceRule, Reach, SegmentRules};

/// Most postings (the pool's and the party's) a matcher lists: about half a
/// millisecond of reading. A larger pool is left to the tantivy query.
pub const MAX_LISTED: u64 = 250_000;

/// One segment's pool members that are not the party's own.
struct Members {
    bits: BitSet,
}

/// A pool listed per segment (by segment ordinal), the party's own taken out.
pub struct ListedPool {
    segments: Vec<Members>,
}

/// Every document of `postings` (read front to back in blocks) into `f`.
fn each_doc(postings: &mut impl DocSet, mut f: impl FnMut(DocId)) {
    let mut buffer = [0; COLLECT_BLOCK_BUFFER_LEN];
    loop {
        let n = postings.fill_buffer(&mut buffer);
        buffer[..n].iter().for_each(|&d| f(d));
        if n < COLLECT_BLOCK_BUFFER_LEN {
            return;
        }
    }
}

impl ListedPool {
    /// Lists the documents carrying any of `terms` in `pool_field` and not
    /// `party` in `party_field`; `None` when that would read more than
    /// `limit` postings (counted from the term dictionary before any is read).
    pub fn list(
        searcher: &Searcher,
        (pool_field, terms): (Field, &[String]),
        (party_field, party): (Field, &str),
        limit: u64,
    ) -> tantivy::Result<Option<Self>> {
        let pool_terms: Vec<Term> = terms.iter().map(|t| Term::from_field_text(pool_field, t)).collect();
        let party = Term::from_field_text(party_field, party);
        let mut planned = Vec::with_capacity(searcher.segment_readers().len());
        let mut total = 0u64;
        for segment in searcher.segment_readers() {
            let (pool_index, party_index) = (segment.inverted_index(pool_field)?, segment.inverted_index(party_field)?);
            let mut infos = Vec::with_capacity(pool_terms.len());
            for t in &pool_terms {
                infos.extend(pool_index.get_term_info(t)?);
            }
            let own = party_index.get_term_info(&party)?;
            total += infos.iter().chain(&own).map(|i| u64::from(i.doc_freq)).sum::<u64>();
            if total > limit {
                return Ok(None);
            }
            planned.push((pool_index, infos, party_index, own));
        }
        let mut segments = Vec::with_capacity(planned.len());
        for (segment, (pool_index, infos, party_index, own)) in searcher.segment_readers().iter().zip(planned) {
            let mut bits = BitSet::with_max_value(segment.max_doc());
            for info in &infos {
                each_doc(&mut pool_index.read_postings_from_terminfo(info, IndexRecordOption::Basic)?, |d| {
                    bits.insert(d);
                });
            }
            if let Some(info) = own.filter(|_| bits.len() > 0) {
                each_doc(&mut party_index.read_postings_from_terminfo(&info, IndexRecordOption::Basic)?, |d| {
                    bits.remove(d)
                });
            }
            segments.push(Members { bits });
        }
        Ok(Some(Self { segments }))
    }

    /// The best `limit` pool members by the summed BM25 of `terms` (each with
    /// its boost; members carrying none are not hits), alive and passing
    /// `admission`; best first, ties by address.
    pub fn best(
        &self,
        stats: &CachedStats,
        columns: &[SegmentColumns],
        terms: &[(Term, Score)],
        (reach, price): (Reach, PriceRule),
        limit: usize,
    ) -> tantivy::Result<Vec<(Score, DocAddress)>> {
        let searcher = stats.searcher();
        let weights = terms
            .iter()
            .map(|(term, boost)| {
                let q = TermQuery::new(term.clone(), IndexRecordOption::WithFreqs);
                Ok((q.weight(EnableScoring::enabled_from_statistics_provider(stats, searcher))?, *boost))
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        let mut hits: Vec<(Score, DocAddress)> = Vec::new();
        let mut scored: Vec<(DocId, Score)> = Vec::new();
        for (ord, (segment, members)) in searcher.segment_readers().iter().zip(&self.segments).enumerate() {
            if members.bits.len() == 0 {
                continue;
            }
            scored.clear();
            for (weight, boost) in &weights {
                let mut scorer = weight.scorer(segment, *boost)?;
                let mut doc = scorer.doc();
                while doc != tantivy::TERMINATED {
                    if members.bits.contains(doc) {
                        scored.push((doc, scorer.score()));
                    }
                    doc = scorer.advance();
                }
            }
            // One entry per document, its terms' scores summed (a stable sort:
            // in query order, so a score does not depend on the sort).
            scored.sort_by_key(|(doc, _)| *doc);
            let rules = rules_of(reach, price, columns, ord, segment);
            let alive = segment.alive_bitset();
            let mut i = 0;
            while i < scored.len() {
                let doc = scored[i].0;
                let mut score = 0.0;
                while i < scored.len() && scored[i].0 == doc {
                    score += scored[i].1;
                    i += 1;
                }
                if alive.is_none_or(|a| a.is_alive(doc)) && rules.admits(doc) {
                    hits.push((score, DocAddress::new(ord as u32, doc)));
                }
            }
        }
        hits.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        hits.truncate(limit);
        Ok(hits)
    }

    /// Up to `limit` pool members not in `skip`, alive and passing
    /// `admission`, the most recently indexed first (segments with the newest
    /// document first, each read from its end), checking at most
    /// [`MAX_SCANNED`] of them.
    pub fn newest(
        &self,
        searcher: &Searcher,
        columns: &[SegmentColumns],
        (reach, price): (Reach, PriceRule),
        limit: usize,
        skip: &HashSet<DocAddress>,
    ) -> Vec<DocAddress> {
        let mut out = Vec::with_capacity(limit);
        let mut checked = 0usize;
        let newest_in =
            |ord: usize| columns.get(ord).and_then(|c| c.created_at.as_ref()).map_or(i64::MIN, |c| c.max_value());
        let mut order: Vec<usize> = (0..self.segments.len()).collect();
        order.sort_by_key(|ord| std::cmp::Reverse(newest_in(*ord)));
        let mut word = Vec::with_capacity(64);
        'segments: for ord in order {
            let (segment, members) = (&searcher.segment_readers()[ord], &self.segments[ord]);
            if members.bits.len() == 0 {
                continue;
            }
            let rules = rules_of(reach, price, columns, ord, segment);
            let alive = segment.alive_bitset();
            // A bit set iterates forwards only: each 64-document bucket is
            // read forwards, then taken backwards.
            for bucket in (0..members.bits.max_value().div_ceil(64)).rev() {
                word.clear();
                word.extend(members.bits.tinyset(bucket).into_iter().map(|bit| bucket * 64 + bit));
                for &doc in word.iter().rev() {
                    if out.len() >= limit || checked >= MAX_SCANNED {
                        break 'segments;
                    }
                    checked += 1;
                    let addr = DocAddress::new(ord as u32, doc);
                    if alive.is_none_or(|a| a.is_alive(doc)) && !skip.contains(&addr) && rules.admits(doc) {
                        out.push(addr);
                    }
                }
            }
        }
        out
    }
}

fn rules_of(reach: Reach, price: PriceRule, columns: &[SegmentColumns], ord: usize, s: &SegmentReader) -> SegmentRules {
    SegmentRules::new(reach, price, columns.get(ord).cloned().unwrap_or_else(|| SegmentColumns::open(s)))
}
