//! The matcher's top-up: when fewer feasible documents share a term with a
//! text than it asked for, the rest are feasible documents that share none,
//! newest first. Sorting the whole feasible pool by creation time would read
//! every document of the pool (a cost that grows with the catalogue), so the
//! pool is read backwards from the end of each segment, the segment with the
//! newest document first, in windows that grow fourfold, stopping as soon as
//! enough pass, and never reading more than [`MAX_SCANNED`] documents. A
//! segment's documents are in the order they were indexed (a merged one's,
//! segment by segment), so "newest" is approximate: recent documents first. (Hand-written: tantivy's collectors read every match and have
//! no way to stop early or to read a segment backwards.)

use std::collections::HashSet;

use tantivy::query::{EnableScoring, Query};
use tantivy::{DocAddress, DocId, DocSet, Searcher, TERMINATED};

use crate::reach::{PriceRule, Reach, SegmentColumns, SegmentRules};

/// Most documents a top-up reads before it settles for what it found.
pub const MAX_SCANNED: usize = 25_000;
/// The smallest first window.
const FIRST_WINDOW: u32 = 512;

/// Up to `limit` documents matching `query` that pass `reach` and `price`
/// and are not in `skip`, the most recently indexed first.
pub fn newest_admitted(
    searcher: &Searcher,
    columns: &[SegmentColumns],
    query: &dyn Query,
    (reach, price): (Reach, PriceRule),
    limit: usize,
    skip: &HashSet<DocAddress>,
) -> tantivy::Result<Vec<DocAddress>> {
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut out = Vec::with_capacity(limit);
    let mut scanned = 0usize;
    // Segments with the newest documents first (a column's maximum is kept in
    // its header); tantivy lists segments in no particular order.
    let mut segments: Vec<(usize, &tantivy::SegmentReader)> = searcher.segment_readers().iter().enumerate().collect();
    let newest_in =
        |ord: usize| columns.get(ord).and_then(|c| c.created_at.as_ref()).map_or(i64::MIN, |c| c.max_value());
    segments.sort_by_key(|(ord, _)| std::cmp::Reverse(newest_in(*ord)));
    for (ord, segment) in segments {
        let rules = SegmentRules::new(reach, price, columns.get(ord).cloned().unwrap_or_default());
        let alive = segment.alive_bitset();
        let mut end: DocId = segment.max_doc();
        let mut docs = weight.scorer(segment, 1.0)?;
        // The first window holds about four times the documents still
        // needed, by the pool's density in the segment (its size estimate).
        let need = (limit - out.len()) as u64;
        let density = u64::from(docs.size_hint().max(1));
        let mut window = (4 * need * u64::from(end) / density).max(u64::from(FIRST_WINDOW)).min(u64::from(end)) as u32;
        while end > 0 && out.len() < limit && scanned < MAX_SCANNED {
            let start = end.saturating_sub(window);
            let mut doc = if docs.doc() < start { docs.seek(start) } else { docs.doc() };
            let mut found = Vec::new();
            while doc != TERMINATED && doc < end && scanned < MAX_SCANNED {
                scanned += 1;
                let addr = DocAddress::new(ord as u32, doc);
                if alive.is_none_or(|a| a.is_alive(doc)) && !skip.contains(&addr) && rules.admits(doc) {
                    found.push(addr);
                }
                doc = docs.advance();
            }
            out.extend(found.into_iter().rev().take(limit - out.len()));
            end = start;
            window = window.saturating_mul(4);
            if end > 0 && out.len() < limit {
                // A scorer only moves forward: the window before needs a new one.
                docs = weight.scorer(segment, 1.0)?;
            }
        }
        if out.len() >= limit || scanned >= MAX_SCANNED {
            break;
        }
    }
    Ok(out)
}
