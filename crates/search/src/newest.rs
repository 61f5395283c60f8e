//! The matcher's top-up for a pool too large to list (a listed pool tops up
//! from its bit set, `listed.rs`): when fewer feasible documents share a term
//! with a text than it asked for, the rest are feasible documents that share
//! none, newest first. Sorting the whole feasible pool by creation time would read
//! every document of the pool (a cost that grows with the catalogue), so the
//! pool is read backwards from the end of each segment, the segment with the
//! newest document first, in windows: a window's pool documents are listed
//! (a forward walk of the pool's postings, cheap per document), then checked
//! against the rules newest first until enough pass. A window is sized to
//! hold what is still needed at the share that has passed so far (one in
//! eight before any were checked), so most top-ups take one window: each
//! window opens the pool's postings anew (a scorer only moves forward), and
//! at 1M offers opening them was most of a top-up's cost. Never more than
//! [`MAX_SCANNED`] pool documents are listed. A segment's documents are in the
//! order they were indexed (a merged one's, segment by segment), so "newest"
//! is approximate: recent documents first. (Hand-written: tantivy's
//! collectors read every match and have no way to stop early or to read a
//! segment backwards.)

use std::collections::HashSet;

use tantivy::query::{EnableScoring, Query};
use tantivy::{DocAddress, DocId, DocSet, Searcher, TERMINATED};

use crate::columns::SegmentColumns;
use crate::reach::{PriceRule, Reach, SegmentRules};

/// Most pool documents a top-up lists before it settles for what it found.
pub const MAX_SCANNED: usize = 25_000;
/// The smallest window, in document ids.
const MIN_WINDOW: u32 = 512;
/// How much a window may grow over the one before, so one unlucky window
/// (nothing passed) does not make the next read the rest of the segment.
const MAX_GROWTH: u64 = 8;

/// The next window, in document ids: enough for `need` more documents if
/// `passed` of `checked` pool documents passing so far holds (one in eight
/// before any were checked, and a quarter more for luck), where the pool
/// holds `pool_per_id` documents per id. `last` is the window before (0: none).
fn window_for(need: usize, passed: usize, checked: usize, pool_per_id: f64, last: u32) -> u32 {
    let share = if checked == 0 { 0.125 } else { (passed as f64 + 0.5) / (checked as f64 + 1.0) };
    let docs = need as f64 / share * 1.25;
    let ids = (docs / pool_per_id.max(f64::MIN_POSITIVE)).min(f64::from(u32::MAX)) as u64;
    let grown = if last == 0 { u64::from(u32::MAX) } else { u64::from(last).saturating_mul(MAX_GROWTH) };
    ids.min(grown).max(u64::from(MIN_WINDOW)) as u32
}

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
    let mut listed = 0usize;
    // Segments with the newest documents first (a column's maximum is kept in
    // its header); tantivy lists segments in no particular order.
    let mut segments: Vec<(usize, &tantivy::SegmentReader)> = searcher.segment_readers().iter().enumerate().collect();
    let newest_in =
        |ord: usize| columns.get(ord).and_then(|c| c.created_at.as_ref()).map_or(i64::MIN, |c| c.max_value());
    segments.sort_by_key(|(ord, _)| std::cmp::Reverse(newest_in(*ord)));
    let mut pool = Vec::new();
    for (ord, segment) in segments {
        let rules = SegmentRules::new(reach, price, columns.get(ord).cloned().unwrap_or_default());
        let alive = segment.alive_bitset();
        let mut end: DocId = segment.max_doc();
        let mut docs = weight.scorer(segment, 1.0)?;
        // The pool's density in the segment, by its size estimate.
        let pool_per_id = f64::from(docs.size_hint().max(1)) / f64::from(end.max(1));
        let (mut checked, mut passed, mut window) = (0usize, 0usize, 0u32);
        while end > 0 && out.len() < limit && listed < MAX_SCANNED {
            window = window_for(limit - out.len(), passed, checked, pool_per_id, window);
            // No larger than what may still be listed: the walk is forward, so
            // a window the cap cut short would lose its newest documents.
            let room = (MAX_SCANNED - listed) as f64 / pool_per_id.max(f64::MIN_POSITIVE);
            window = window.min(room.min(f64::from(u32::MAX)) as u32).max(MIN_WINDOW);
            let start = end.saturating_sub(window);
            pool.clear();
            let mut doc = if docs.doc() < start { docs.seek(start) } else { docs.doc() };
            while doc != TERMINATED && doc < end && listed < MAX_SCANNED {
                pool.push(doc);
                listed += 1;
                doc = docs.advance();
            }
            for &doc in pool.iter().rev() {
                let addr = DocAddress::new(ord as u32, doc);
                checked += 1;
                if alive.is_none_or(|a| a.is_alive(doc)) && !skip.contains(&addr) && rules.admits(doc) {
                    passed += 1;
                    out.push(addr);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
            end = start;
            if end > 0 && out.len() < limit {
                // A scorer only moves forward: the window before needs a new one.
                docs = weight.scorer(segment, 1.0)?;
            }
        }
        if out.len() >= limit || listed >= MAX_SCANNED {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::window_for;

    #[test]
    fn windows_follow_the_share_that_passed() {
        // One pool document per 10 ids: 40 needed at a prior of one in eight.
        let first = window_for(40, 0, 0, 0.1, 0);
        assert!((3_990..=4_010).contains(&first), "{first}");
        // One in fifty passed: the next window is sized for that share,
        // but grows at most eightfold.
        let rate_sized = window_for(38, 2, 100, 0.1, 4_000);
        assert!((18_000..=20_000).contains(&rate_sized), "{rate_sized}");
        assert_eq!(window_for(38, 0, 10_000, 0.1, 1_000), 8_000);
        // Never below the smallest window.
        assert_eq!(window_for(1, 50, 50, 1.0, 0), 512);
    }
}
