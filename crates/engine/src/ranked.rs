//! Reading only the rows a matcher needs. The index answers with about a
//! hundred feasible hits and, from its columns, the fields the score reads
//! besides the text (`MatchHit`). Those fields never change once a row is
//! written, so ranking the hits by them gives the order the rows would give,
//! and the rows are read best first, in growing chunks, until what was read
//! settles the answer. Reading all hundred rows for twenty candidates was a
//! third of a request's time (SQLite hands each row across threads).

use wantloop_core::{Demand, Offer};
use wantloop_match::TextScores;
use wantloop_match::score::{DemandTerms, OfferTerms, Weights, pair_features};
use wantloop_search::MatchHit;
use wantloop_store::StoreError;

/// Text relevance of each hit relative to the best one (the first).
pub(crate) fn relative(hits: &[MatchHit]) -> TextScores {
    let best = hits.first().map_or(1.0, |h| f64::from(h.relevance)).max(f64::MIN_POSITIVE);
    hits.iter().map(|h| (h.id, f64::from(h.relevance) / best)).collect()
}

/// A hit's id and the score its index fields give the pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RankedHit {
    pub id: i64,
    pub score: f64,
}

/// Offer hits for `d`, best first: score, then the cheaper, then the older id
/// (the order `plan_for_demand` proposes in).
pub(crate) fn rank_offers(d: &Demand, hits: &[MatchHit], text: &TextScores, w: Weights, now: i64) -> Vec<RankedHit> {
    let demand = DemandTerms::from(d);
    let mut ranked: Vec<(RankedHit, i64)> = hits
        .iter()
        .map(|h| {
            let price = h.price.unwrap_or(0);
            let offer = OfferTerms { price, location: h.location, created_at: h.created_at };
            let f = pair_features(demand, offer, text.get(&h.id).copied().unwrap_or(0.0), now);
            (RankedHit { id: h.id, score: w.score(&f) }, price)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.score.total_cmp(&a.0.score).then(a.1.cmp(&b.1)).then(a.0.id.cmp(&b.0.id)));
    ranked.into_iter().map(|(r, _)| r).collect()
}

/// Demand hits for `o`, best first: score, then the older id.
pub(crate) fn rank_demands(o: &Offer, hits: &[MatchHit], text: &TextScores, w: Weights, now: i64) -> Vec<RankedHit> {
    let offer = OfferTerms::from(o);
    let mut ranked: Vec<RankedHit> = hits
        .iter()
        .map(|h| {
            let demand = DemandTerms { budget: h.price, location: h.location, max_distance_km: h.max_km };
            let f = pair_features(demand, offer, text.get(&h.id).copied().unwrap_or(0.0), now);
            RankedHit { id: h.id, score: w.score(&f) }
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    ranked
}

/// Reads the rows of `ranked` (best first) with `read`: `first` of them,
/// then twice as many as the last time, until `settled` says the rows read
/// so far decide the answer, or none are left. A row the store no longer has
/// is simply not among the rows returned.
///
/// (`read` takes its ids by value and returns a plain future: an async
/// closure here made the HTTP handlers' futures fail to be `Send`.)
pub(crate) async fn read_best<T, F: Future<Output = Result<Vec<T>, StoreError>>>(
    ranked: &[RankedHit],
    first: usize,
    read: impl Fn(Vec<i64>) -> F,
    settled: impl Fn(&[T]) -> bool,
) -> Result<Vec<T>, StoreError> {
    let mut rows = Vec::new();
    let (mut start, mut chunk) = (0, first.max(1));
    while start < ranked.len() {
        let end = (start + chunk).min(ranked.len());
        let ids: Vec<i64> = ranked[start..end].iter().map(|r| r.id).collect();
        rows.extend(read(ids).await?);
        if settled(&rows) {
            break;
        }
        start = end;
        chunk *= 2;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn ranked(n: i64) -> Vec<RankedHit> {
        (1..=n).map(|id| RankedHit { id, score: 1.0 / id as f64 }).collect()
    }

    #[tokio::test]
    async fn reads_best_first_in_doubling_chunks_until_settled() {
        let asked = RefCell::new(Vec::new());
        let read = |ids: Vec<i64>| {
            asked.borrow_mut().push(ids.clone());
            std::future::ready(Ok(ids))
        };
        // Even ids are "infeasible": six odd ones need ids 1..=11.
        let rows = read_best(&ranked(100), 4, read, |rows: &[i64]| rows.iter().filter(|id| *id % 2 == 1).count() >= 6)
            .await
            .unwrap();
        assert_eq!(rows, (1..=12).collect::<Vec<_>>());
        assert_eq!(asked.into_inner(), vec![vec![1, 2, 3, 4], vec![5, 6, 7, 8, 9, 10, 11, 12]]);
    }

    #[tokio::test]
    async fn stops_when_the_hits_run_out() {
        let rows = read_best(&ranked(5), 2, |ids| std::future::ready(Ok(ids)), |_: &[i64]| false).await.unwrap();
        assert_eq!(rows, vec![1, 2, 3, 4, 5]);
    }
}
