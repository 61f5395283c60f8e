//! Batch allocation: the exact optimum (or greedy) over all open demands at
//! once, with the same candidates and scorer as matching one demand.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use wantloop_core::time::now_ms;

use rayon::prelude::*;
use std::sync::Arc;
use wantloop_core::{DemandStatus, Offer};
use wantloop_match::{Scoring, Signals, TextScores};

use crate::signals::PairSignals;
use wantloop_match::batch::{self, BatchBuilder, BatchPlan, BuildOptions, Mode};
use wantloop_store::{DemandFilter, NewMatch, Page, Store, StoreError};

use crate::{Engine, EngineError};

/// What a batch allocation run did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllocationReport {
    /// `optimal` or `greedy`.
    pub mode: String,
    pub dry_run: bool,
    pub demands: usize,
    pub offers: usize,
    pub edges: usize,
    /// Units the solver assigned.
    pub planned_units: u64,
    /// Sum of (priority-weighted) scores over the assigned units.
    pub objective: f64,
    /// On a dry run, what would be proposed, by demand then offer id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<PlannedPair>,
    /// Matches written (0 on a dry run).
    pub proposed_matches: usize,
    pub proposed_units: i64,
    /// Proposals refused at write time because supply moved meanwhile.
    pub skipped: usize,
    /// Reading demands, searching their candidates and scoring them.
    pub candidate_seconds: f64,
    pub solve_seconds: f64,
    pub total_seconds: f64,
}

/// One demand–offer pair of an allocation plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlannedPair {
    pub demand_id: i64,
    pub offer_id: i64,
    pub units: i64,
    /// The pair's match score (before the demand's priority weight).
    pub score: f64,
}

impl Engine {
    /// Allocates supply over all open demands at once (exact optimum or greedy)
    /// and proposes the result; `dry_run` only reports what it would do.
    pub async fn allocate(&self, mode: Mode, dry_run: bool) -> Result<AllocationReport, EngineError> {
        self.allocate_through(self.store.as_ref(), mode, dry_run).await
    }

    /// [`Engine::allocate`], its proposals written through `store`: the
    /// scheduled run passes the store fenced by its lease token, so a node
    /// that lost the lease mid-run has its late proposals refused.
    pub async fn allocate_through(
        &self,
        store: &dyn Store,
        mode: Mode,
        dry_run: bool,
    ) -> Result<AllocationReport, EngineError> {
        let _one_at_a_time = self.allocating.lock().await;
        let started = Instant::now();
        // The whole market, as the store has it now: a full catch-up first.
        if let Err(e) = crate::indexer::catch_up(self.store.as_ref(), &self.search).await {
            tracing::warn!(error = %e, "search catch-up before allocation failed");
        }
        let scoring = self.scoring();
        let plan = self.build_plan(&scoring).await?;
        let candidate_seconds = started.elapsed().as_secs_f64();
        // The solve is CPU work: a blocking thread keeps it off the async
        // runtime that serves every other request.
        let (plan, solution, solve_seconds) = tokio::task::spawn_blocking(move || {
            let solve_started = Instant::now();
            let solution = batch::solve(&plan, mode)?;
            Ok::<_, EngineError>((plan, solution, solve_started.elapsed().as_secs_f64()))
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))??;
        let mut report = AllocationReport {
            mode: match mode {
                Mode::Optimal => "optimal",
                Mode::Greedy => "greedy",
            }
            .to_string(),
            dry_run,
            demands: plan.demand_ids.len(),
            offers: plan.offer_ids.len(),
            edges: plan.instance.edges.len(),
            planned_units: solution.units,
            objective: solution.objective,
            candidate_seconds,
            solve_seconds,
            ..Default::default()
        };
        let proposals = batch::proposals(&plan, &solution, &scoring);
        if dry_run {
            for (demand_id, ps) in proposals {
                let mut pairs: Vec<PlannedPair> = ps
                    .into_iter()
                    .map(|p| PlannedPair { demand_id, offer_id: p.offer_id, units: p.units, score: p.score })
                    .collect();
                pairs.sort_by_key(|p| p.offer_id);
                report.plan.extend(pairs);
            }
        } else {
            for (demand_id, proposals) in proposals {
                let proposals: Vec<NewMatch> = proposals.into_iter().map(|p| self.to_new_match(p)).collect();
                let outcome = match store.propose_matches(demand_id, &proposals, None).await {
                    Ok(o) => o,
                    // The demand was cancelled or expired since we read it.
                    Err(StoreError::IllegalTransition { .. }) => {
                        report.skipped += proposals.len();
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                if let Some(p) = outcome.done() {
                    report.proposed_matches += p.matches.len();
                    report.proposed_units += p.matches.iter().map(|m| m.units).sum::<i64>();
                    report.skipped += p.skipped.len();
                }
            }
        }
        report.total_seconds = started.elapsed().as_secs_f64();
        metrics::histogram!("wantloop_allocation_seconds", "mode" => report.mode.clone()).record(report.total_seconds);
        Ok(report)
    }

    /// The batch instance, streamed: a page of open demands at a time, their
    /// candidates searched and scored in parallel on blocking threads, the
    /// offers they name read from the store once. The market is never held
    /// as objects: only the offers some demand can take, and the edges.
    async fn build_plan(&self, scoring: &Scoring) -> Result<BatchPlan, EngineError> {
        let m = &self.config.matching;
        let options = BuildOptions {
            scoring: scoring.clone(),
            min_score: m.min_score,
            max_candidates: m.max_candidates,
            now: now_ms(),
        };
        let open = DemandFilter { status: Some(DemandStatus::Open), ..Default::default() };
        let mut builder = BatchBuilder::default();
        let mut offers: HashMap<i64, Offer> = HashMap::new();
        let mut page = Page::first(Page::MAX_LIMIT);
        loop {
            let demands = self.store.list_demands(&open, page).await?;
            let Some(last) = demands.last() else { break };
            page.after = last.id;
            let engine = self.clone();
            let (demands, text) = tokio::task::spawn_blocking(move || {
                let text: Vec<Option<TextScores>> = demands.par_iter().map(|d| engine.text_scores(d)).collect();
                (demands, text)
            })
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?;
            let missing: HashSet<i64> =
                text.iter().flatten().flat_map(|t| t.keys()).filter(|id| !offers.contains_key(id)).copied().collect();
            let missing: Vec<i64> = missing.into_iter().collect();
            for mut o in self.store.offers_by_ids(&missing).await? {
                // Scored by the index's text relevance: the text is not read
                // again, and a million offers' texts would weigh hundreds of MB.
                o.text = String::new();
                offers.insert(o.id, o);
            }
            // A demand the index could not answer for takes the store's list.
            for (d, t) in demands.iter().zip(&text) {
                if t.is_none() {
                    for o in self.store.candidate_offers(d).await? {
                        offers.entry(o.id).or_insert(o);
                    }
                }
            }
            // Each requester's signals once per page (their affinity reads
            // their history when a recommender is active).
            let mut signals: HashMap<String, Arc<PairSignals>> = HashMap::new();
            for d in &demands {
                if !signals.contains_key(&d.requester) {
                    signals.insert(d.requester.clone(), Arc::new(self.pair_signals(&d.requester).await?));
                }
            }
            let looks = self.demand_looks(&demands.iter().map(|d| d.id).collect::<Vec<_>>()).await?;
            let (options, scoring) = (options.clone(), scoring.clone());
            (builder, offers) = tokio::task::spawn_blocking(move || {
                let scored: Vec<_> = demands
                    .par_iter()
                    .zip(&text)
                    .map(|(d, t)| {
                        let s = signals.get(&d.requester);
                        let of = |o: &Offer| Signals {
                            visual: looks.visual(d.id, o.id),
                            ..s.map(|s| s.of(o)).unwrap_or_default()
                        };
                        match t {
                            Some(t) => batch::score_candidates(
                                d,
                                t.keys().filter_map(|id| offers.get(id)),
                                &options,
                                Some(t),
                                Some(&of),
                            ),
                            None => batch::score_candidates(
                                d,
                                offers.values().filter(|o| o.category == d.category),
                                &options,
                                None,
                                Some(&of),
                            ),
                        }
                    })
                    .collect();
                for (d, s) in demands.iter().zip(scored) {
                    builder.add(d, s, &scoring);
                }
                (builder, offers)
            })
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?;
        }
        Ok(builder.finish())
    }
}
