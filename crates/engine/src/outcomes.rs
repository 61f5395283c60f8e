//! Matches with an outcome, as learning-to-rank rows: one query per demand,
//! one row per proposed offer, the features the match was scored with when
//! it was proposed (stored with the match), and a graded label from what
//! happened to it. `wantloop export features` writes these rows and the
//! ranker's retraining learns from them: the same function feeds both.

use std::collections::HashMap;

use serde::Serialize;
use wantloop_core::time::DAY_MS;
use wantloop_core::{FeatureScores, InteractionKind, Match, MatchStatus};
use wantloop_ml::ranker::RankSet;
use wantloop_store::{MatchFilter, StoreError};

use crate::Engine;

/// A rating at or above this counts as a good outcome.
pub const GOOD_RATING: f64 = 4.0;

/// The label of a match's outcome, `None` while it has none (still
/// proposed). Rejected or expired: 0. Accepted: 1. Fulfilled: 2, or 3 when
/// the requester rated the offer ≥ 4, or 1 when they rated it below.
/// A rating ≥ 4 also makes an accepted match a 2.
pub fn outcome_label(status: MatchStatus, rating: Option<f64>) -> Option<f64> {
    let good = rating.map(|r| r >= GOOD_RATING);
    match (status, good) {
        (MatchStatus::Proposed, _) => None,
        (MatchStatus::Rejected | MatchStatus::Expired, _) => Some(0.0),
        (MatchStatus::Accepted, Some(true)) => Some(2.0),
        (MatchStatus::Accepted, _) => Some(1.0),
        (MatchStatus::Fulfilled, Some(true)) => Some(3.0),
        (MatchStatus::Fulfilled, Some(false)) => Some(1.0),
        (MatchStatus::Fulfilled, None) => Some(2.0),
    }
}

/// One labelled row.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeRow {
    pub demand_id: i64,
    pub match_id: i64,
    pub offer_id: i64,
    pub status: MatchStatus,
    pub rating: Option<f64>,
    pub label: f64,
    /// When the match was proposed (its features are as of then).
    pub proposed_at: i64,
    pub features: FeatureScores,
}

/// Labelled rows grouped by demand, queries in the order of their first
/// proposal (a time order: a held-out slice is the newest queries).
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    pub queries: Vec<Vec<OutcomeRow>>,
}

impl Outcomes {
    pub fn rows(&self) -> usize {
        self.queries.iter().map(Vec::len).sum()
    }

    /// The rows as a ranking set over [`FeatureScores::NAMES`].
    pub fn rank_set(&self, queries: std::ops::Range<usize>) -> RankSet {
        let mut set = RankSet::new(FeatureScores::NAMES.iter().map(|s| s.to_string()).collect());
        for (i, q) in self.queries[queries.clone()].iter().enumerate() {
            set.push_query((queries.start + i).to_string(), q.iter().map(|r| (r.label, r.features.vector().to_vec())));
        }
        set
    }

    /// The query number of each row, in [`Outcomes::queries`] order (what an
    /// export writes as `qid`: a demand's rows share one, a day's pooled
    /// single proposals another).
    pub fn query_numbers(&self) -> impl Iterator<Item = (usize, &OutcomeRow)> {
        self.queries.iter().enumerate().flat_map(|(i, q)| q.iter().map(move |r| (i, r)))
    }
}

impl Engine {
    /// Every match with an outcome, labelled, grouped by demand.
    pub async fn outcomes(&self) -> Result<Outcomes, StoreError> {
        let matches = self.store.all_matches(&MatchFilter::default()).await?;
        let ratings = self.requester_ratings(&matches).await?;
        Ok(group(matches, &ratings))
    }

    /// Per match id: the latest rating its requester gave its offer.
    async fn requester_ratings(&self, matches: &[Match]) -> Result<HashMap<i64, f64>, StoreError> {
        let offers: std::collections::HashSet<i64> = matches.iter().map(|m| m.offer_id).collect();
        let mut out = HashMap::new();
        let mut after = 0;
        loop {
            let batch = self.store.interactions_after(after, 50_000).await?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            for i in batch {
                if i.kind == InteractionKind::Rate && offers.contains(&i.offer_id) {
                    out.insert((i.user, i.offer_id), i.value);
                }
            }
        }
        if out.is_empty() {
            return Ok(HashMap::new());
        }
        // Keyed by requester: the demands say who requested.
        let demand_ids: Vec<i64> = {
            let mut v: Vec<i64> = matches.iter().map(|m| m.demand_id).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let mut requester = HashMap::new();
        for chunk in demand_ids.chunks(500) {
            for d in self.store.demands_by_ids(chunk).await? {
                requester.insert(d.id, d.requester);
            }
        }
        Ok(matches
            .iter()
            .filter_map(|m| {
                let who = requester.get(&m.demand_id)?;
                Some((m.id, *out.get(&(who.clone(), m.offer_id))?))
            })
            .collect())
    }
}

/// Groups labelled matches by demand (`ratings` by match id), queries
/// ordered by their first proposal.
fn group(matches: Vec<Match>, ratings: &HashMap<i64, f64>) -> Outcomes {
    let mut by_demand: HashMap<i64, Vec<OutcomeRow>> = HashMap::new();
    for m in matches {
        let rating = ratings.get(&m.id).copied();
        let Some(label) = outcome_label(m.status, rating) else { continue };
        by_demand.entry(m.demand_id).or_default().push(OutcomeRow {
            demand_id: m.demand_id,
            match_id: m.id,
            offer_id: m.offer_id,
            status: m.status,
            rating,
            label,
            proposed_at: m.created_at,
            features: m.features,
        });
    }
    // A demand proposed one offer compares nothing with it: such rows are
    // pooled per day of proposal, so outcomes of different offers proposed
    // the same day still rank against each other.
    let (mut queries, singles): (Vec<Vec<OutcomeRow>>, Vec<Vec<OutcomeRow>>) =
        by_demand.into_values().partition(|q| q.len() > 1);
    let mut by_day: HashMap<i64, Vec<OutcomeRow>> = HashMap::new();
    for row in singles.into_iter().flatten() {
        by_day.entry(row.proposed_at.div_euclid(DAY_MS)).or_default().push(row);
    }
    queries.extend(by_day.into_values());
    for q in &mut queries {
        q.sort_by_key(|r| r.match_id);
    }
    queries.sort_by_key(|q| q.first().map(|r| (r.proposed_at, r.match_id)));
    Outcomes { queries }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_outcome_and_the_rating() {
        use MatchStatus::*;
        assert_eq!(outcome_label(Proposed, Some(5.0)), None);
        assert_eq!(outcome_label(Rejected, Some(5.0)), Some(0.0));
        assert_eq!(outcome_label(Expired, None), Some(0.0));
        assert_eq!(outcome_label(Accepted, None), Some(1.0));
        assert_eq!(outcome_label(Accepted, Some(4.0)), Some(2.0));
        assert_eq!(outcome_label(Fulfilled, None), Some(2.0));
        assert_eq!(outcome_label(Fulfilled, Some(4.5)), Some(3.0));
        assert_eq!(outcome_label(Fulfilled, Some(2.0)), Some(1.0));
    }
}
