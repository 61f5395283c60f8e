//! Matching one demand: candidates and their text relevance from the search
//! index (BM25, the demand's filters applied in the index), hard constraints,
//! the transparent score, and reserving units; and the reverse question, which
//! open demands an offer could serve.

use serde::{Deserialize, Serialize};
use wantloop_core::time::now_ms;
use wantloop_core::{Demand, DemandStatus, FeatureScores, Offer};
use wantloop_match::constraints::violation;
use wantloop_match::{Scorer, Scoring, Signals, TextScores, plan_for_demand};
use wantloop_search::MatchHit;
use wantloop_store::{DemandFilter, IdemKey, NewMatch, Outcome, Proposal, StoreError};

use crate::{Engine, indexer, ranked};

/// How many offers the index proposes per demand: twice what batch
/// allocation keeps per demand (`max_candidates`, 50), and each is read from
/// the store and scored, so the number is the cost of a request.
const CANDIDATES_FROM_INDEX: usize = 100;
/// Events after which the index may hold a candidate it did not hold
/// before: new or relisted supply, new or re-categorised demand, and units
/// given back (a rejected or expired match, a closed demand).
const ADDS_CANDIDATES: &[&str] = &[
    "offer.created",
    "offer.relisted",
    "demand.created",
    "demand.reviewed",
    "match.rejected",
    "match.expired",
    "demand.cancelled",
    "demand.expired",
];

/// How many demands the index proposes per offer.
const DEMANDS_FROM_INDEX: usize = 100;

/// Whether `o` could serve `d` now: feasible, and `d` still wants units
/// (the index hears of a demand's matches late: it does not wait for them).
fn serves(d: &Demand, o: &Offer) -> bool {
    d.open_units() > 0 && violation(d, o).is_none()
}

/// Rows read first for `limit` answers (or a match's open units): a few
/// more, for hits whose units were taken since the index last heard (it does
/// not wait for reservations).
fn spare(limit: usize) -> usize {
    limit + limit / 4 + 4
}

/// An offer that could serve a demand, with its score and explanation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoredOffer {
    pub offer: Offer,
    pub score: f64,
    pub features: FeatureScores,
}

/// A demand an offer could serve, with its score and explanation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoredDemand {
    pub demand: Demand,
    pub score: f64,
    pub features: FeatureScores,
}

impl Engine {
    pub(crate) fn to_new_match(&self, p: wantloop_match::Proposal) -> NewMatch {
        NewMatch {
            offer_id: p.offer_id,
            units: p.units,
            score: p.score,
            features: p.features,
            ttl_ms: Some(self.config.matching.proposal_ttl_ms),
        }
    }

    /// Brings the index up to the store's newest event that could add a
    /// candidate first, so a match sees offers posted a moment ago
    /// (read-your-writes for the matcher). Events that only take candidates
    /// away (a proposal reserving units) are not waited for: the store's
    /// guarded reservation refuses what they used up, and the background
    /// indexer shows them soon after. Waiting for those too made every match
    /// commit the index under load.
    /// `false` when the index could not be brought up to date (logged): what
    /// it answers then is not cached.
    pub(crate) async fn fresh_index(&self) -> bool {
        match self.store.last_event_id_of(ADDS_CANDIDATES).await {
            Ok(last) if last > self.search.cursor() => {
                match indexer::catch_up_to(self.store.as_ref(), &self.search, last).await {
                    Ok(_) => true,
                    Err(e) => {
                        tracing::warn!(error = %e, "search catch-up failed");
                        false
                    }
                }
            }
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the outbox position");
                false
            }
        }
    }

    /// Text relevance of offers to a demand from the search index: BM25 with
    /// the demand's filters applied in the index, divided by the query's best
    /// score. `None` if the index fails (token overlap is used instead).
    pub fn text_scores(&self, d: &Demand) -> Option<TextScores> {
        self.offer_hits(d).map(|hits| ranked::relative(&hits))
    }

    /// The index's feasible offers for a demand; `None` (logged) if it fails.
    fn offer_hits(&self, d: &Demand) -> Option<Vec<MatchHit>> {
        self.search
            .offers_for_demand(d, CANDIDATES_FROM_INDEX)
            .map_err(|e| tracing::warn!(error = %e, "search relevance failed; using token overlap"))
            .ok()
    }

    /// Candidate offers for a demand and their text relevance: the index's
    /// hits ranked by their score, read from the store best first until
    /// `settled` says enough were read (`ranked.rs`); the store's own bounded
    /// list if the index failed.
    async fn candidates(
        &self,
        d: &Demand,
        now: i64,
        first: usize,
        learned: bool,
        settled: impl Fn(&[Offer], &TextScores) -> bool,
    ) -> Result<(Vec<Offer>, Option<TextScores>), StoreError> {
        let Some(hits) = self.offer_hits(d) else { return Ok((self.store.candidate_offers(d).await?, None)) };
        let text = ranked::relative(&hits);
        let m = &self.config.matching;
        let ranked = ranked::rank_offers(d, &hits, &text, m.weights, now);
        // A learned score reads signals the index does not hold: every hit's
        // row is read (at most CANDIDATES_FROM_INDEX).
        let first = if learned { ranked.len() } else { first };
        let read = |ids: Vec<i64>| async move { self.store.offers_by_ids(&ids).await };
        let offers = ranked::read_best(&ranked, first, read, |rows: &[Offer]| settled(rows, &text)).await?;
        Ok((offers, Some(text)))
    }

    /// Proposes the best feasible offers for one demand and reserves their units.
    pub async fn match_demand(&self, demand_id: i64, idem: Option<&IdemKey>) -> Result<Outcome<Proposal>, StoreError> {
        let d = self.store.get_demand(demand_id).await?;
        self.fresh_index().await;
        let m = &self.config.matching;
        let now = now_ms();
        let open = d.open_units();
        let scoring = self.scoring();
        let v1 = Scoring::Weights(m.weights);
        // The plan takes offers best first until the demand's units are
        // covered: rows that cover them settle it (v1 order; a learned
        // scorer reads every hit).
        let covered = |rows: &[Offer], text: &TextScores| {
            let scorer = Scorer::new(&d, &v1, now).with_text_scores(Some(text));
            let usable =
                rows.iter().filter(|o| violation(&d, o).is_none() && scorer.score(&scorer.features(o)) >= m.min_score);
            usable.map(Offer::free_units).sum::<i64>() >= open
        };
        let (offers, text) = if d.status.is_terminal() {
            (Vec::new(), None)
        } else {
            let first = spare(usize::try_from(open).unwrap_or(1).clamp(1, 16));
            self.candidates(&d, now, first, scoring.is_learned(), covered).await?
        };
        let signals = self.pair_signals(&d.requester).await?;
        let looks = self.demand_looks(&[d.id]).await?;
        let of = |o: &Offer| Signals { visual: looks.visual(d.id, o.id), ..signals.of(o) };
        let plan = plan_for_demand(&d, &offers, &scoring, m.min_score, now, text.as_ref(), Some(&of));
        let proposals: Vec<NewMatch> = plan.into_iter().map(|p| self.to_new_match(p)).collect();
        self.store.propose_matches(demand_id, &proposals, idem).await
    }

    /// Feasible offers for a demand, best first, without reserving anything.
    pub async fn candidates_for_demand(&self, demand_id: i64, limit: usize) -> Result<Vec<ScoredOffer>, StoreError> {
        let key = format!("candidates:{demand_id}:{limit}");
        self.cached_list(key, || self.compute_candidates_for_demand(demand_id, limit)).await
    }

    async fn compute_candidates_for_demand(
        &self,
        demand_id: i64,
        limit: usize,
    ) -> Result<(Vec<ScoredOffer>, bool), StoreError> {
        let d = self.store.get_demand(demand_id).await?;
        let fresh = self.fresh_index().await;
        let now = now_ms();
        let enough =
            |rows: &[Offer], _: &TextScores| rows.iter().filter(|o| violation(&d, o).is_none()).count() >= limit;
        let scoring = self.scoring();
        let (offers, text) = self.candidates(&d, now, spare(limit), scoring.is_learned(), enough).await?;
        let signals = self.pair_signals(&d.requester).await?;
        let looks = self.demand_looks(&[d.id]).await?;
        let of = |o: &Offer| Signals { visual: looks.visual(d.id, o.id), ..signals.of(o) };
        let scorer = Scorer::new(&d, &scoring, now).with_text_scores(text.as_ref()).with_signals(Some(&of));
        let mut out: Vec<ScoredOffer> = offers
            .into_iter()
            .filter(|o| violation(&d, o).is_none())
            .map(|o| {
                let (score, features) = scorer.scored(&o);
                ScoredOffer { score, offer: o, features }
            })
            .collect();
        // Best first, as a match would propose them.
        out.sort_by(|a, b| {
            b.score.total_cmp(&a.score).then(a.offer.price.cmp(&b.offer.price)).then(a.offer.id.cmp(&b.offer.id))
        });
        out.truncate(limit);
        Ok((out, fresh))
    }

    /// Open demands an offer could fulfil, best first: "show the requests this
    /// inventory can serve". The index of demands answers with the hard
    /// filters applied in the search (category, price within budget, radius,
    /// not the provider's own), so the work per request is bounded; if the
    /// index fails, the newest 1,000 open demands of the category are scored.
    pub async fn demands_for_offer(&self, offer_id: i64, limit: usize) -> Result<Vec<ScoredDemand>, StoreError> {
        let key = format!("demands-for-offer:{offer_id}:{limit}");
        self.cached_list(key, || self.compute_demands_for_offer(offer_id, limit)).await
    }

    async fn compute_demands_for_offer(
        &self,
        offer_id: i64,
        limit: usize,
    ) -> Result<(Vec<ScoredDemand>, bool), StoreError> {
        let o = self.store.get_offer(offer_id).await?;
        let fresh = self.fresh_index().await;
        let now = now_ms();
        let scoring = self.scoring();
        let (demands, text) = match self.search.demands_for_offer(&o, DEMANDS_FROM_INDEX) {
            Ok(hits) => {
                let text = ranked::relative(&hits);
                let ranked = ranked::rank_demands(&o, &hits, &text, self.config.matching.weights, now);
                let read = |ids: Vec<i64>| async move { self.store.demands_by_ids(&ids).await };
                let enough = |rows: &[Demand]| rows.iter().filter(|d| serves(d, &o)).count() >= limit;
                // A learned score reads signals the index does not hold: read every hit.
                let first = if scoring.is_learned() { ranked.len() } else { spare(limit) };
                (ranked::read_best(&ranked, first, read, enough).await?, Some(text))
            }
            Err(e) => {
                tracing::warn!(error = %e, "search for demands failed; scoring the newest of the category");
                let filter = DemandFilter {
                    status: Some(DemandStatus::Open),
                    category: Some(o.category.clone()),
                    ..Default::default()
                };
                (self.store.newest_demands(&filter, wantloop_store::Page::MAX_LIMIT).await?, None)
            }
        };
        let mut out: Vec<ScoredDemand> = Vec::new();
        let mut signals = std::collections::HashMap::new();
        let looks = self.demand_looks(&demands.iter().map(|d| d.id).collect::<Vec<_>>()).await?;
        for d in demands.into_iter().filter(|d| serves(d, &o)) {
            let own: Option<TextScores> =
                text.as_ref().map(|t| [(o.id, t.get(&d.id).copied().unwrap_or(0.0))].into_iter().collect());
            // Each requester has an affinity of their own: one bounded
            // history read per requester (at most DEMANDS_FROM_INDEX).
            if !signals.contains_key(&d.requester) {
                signals.insert(d.requester.clone(), self.pair_signals(&d.requester).await?);
            }
            let signals = &signals[&d.requester];
            let of = |o: &Offer| Signals { visual: looks.visual(d.id, o.id), ..signals.of(o) };
            let scorer = Scorer::new(&d, &scoring, now).with_text_scores(own.as_ref()).with_signals(Some(&of));
            let (score, features) = scorer.scored(&o);
            out.push(ScoredDemand { demand: d, score, features });
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.demand.id.cmp(&b.demand.id)));
        out.truncate(limit);
        Ok((out, fresh))
    }
}
