//! The engine: the loop's steps that combine storage and matching — intake
//! classification, matching one demand, listing what an offer could serve, and
//! batch allocation. Used by the HTTP handlers and by the CLI, so both behave
//! the same.

use std::sync::Arc;
use std::time::Instant;

use crate::models::ModelSlot;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use wantloop_core::demand::{CategorySource, NewDemand};
use wantloop_core::time::{HOUR_MS, now_ms};
use wantloop_core::values::Category;
use wantloop_core::{Demand, DemandStatus, FeatureScores, Offer, OfferStatus};
use wantloop_match::batch::{self, BuildOptions, Mode};
use wantloop_match::constraints::violation;
use wantloop_match::{Scorer, TextScores, Weights, plan_for_demand, rules};
use wantloop_ml::Classifier;
use wantloop_ml::recommender::Recommender;
use wantloop_store::{
    Classification, DemandFilter, IdemKey, NewMatch, OfferFilter, Outcome, Proposal, Store, StoreError,
};

/// How many offers the index proposes per demand.
const CANDIDATES_FROM_INDEX: usize = 200;

/// Tunables of matching and intake.
#[derive(Debug, Clone)]
pub struct MatchConfig {
    /// Demands classified with less confidence than this go to the review queue.
    pub review_threshold: f64,
    pub weights: Weights,
    /// Pairs scoring below this are never proposed.
    pub min_score: f64,
    /// A proposed match not accepted within this time expires.
    pub proposal_ttl_ms: i64,
    /// Candidate offers kept per demand in batch allocation.
    pub max_candidates: usize,
}

impl Default for MatchConfig {
    fn default() -> Self {
        Self {
            review_threshold: 0.5,
            weights: Weights::default(),
            min_score: 0.05,
            proposal_ttl_ms: 48 * HOUR_MS,
            max_candidates: 50,
        }
    }
}

#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    config: MatchConfig,
    /// One batch allocation at a time per process.
    allocating: Arc<Mutex<()>>,
    classifier: ModelSlot<Classifier>,
    recommender: ModelSlot<Recommender>,
    search: Option<Arc<wantloop_search::SearchIndex>>,
}

/// A text's category as the intake would assign it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClassifyResult {
    pub category: String,
    pub confidence: f64,
    /// `classifier v3` when a trained model answered, `rules` otherwise.
    pub source: String,
    /// The three most likely categories (model only).
    pub top: Vec<(String, f64)>,
    /// Whether the intake would send a demand with this text to review.
    pub needs_review: bool,
}

/// An offer that could serve a demand, with its score and explanation.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScoredOffer {
    pub offer: Offer,
    pub score: f64,
    pub features: FeatureScores,
}

/// A demand an offer could serve, with its score and explanation.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScoredDemand {
    pub demand: Demand,
    pub score: f64,
    pub features: FeatureScores,
}

/// What a batch allocation run did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// Matches written (0 on a dry run).
    pub proposed_matches: usize,
    pub proposed_units: i64,
    /// Proposals refused at write time because supply moved meanwhile.
    pub skipped: usize,
    pub solve_seconds: f64,
    pub total_seconds: f64,
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, config: MatchConfig) -> Self {
        Self {
            store,
            config,
            allocating: Arc::new(Mutex::new(())),
            classifier: ModelSlot::default(),
            recommender: ModelSlot::default(),
            search: None,
        }
    }

    pub fn classifier(&self) -> &ModelSlot<Classifier> {
        &self.classifier
    }

    /// Attaches the search index this engine answers searches from.
    pub fn with_search(mut self, index: Arc<wantloop_search::SearchIndex>) -> Self {
        self.search = Some(index);
        self
    }

    pub fn search(&self) -> Option<&Arc<wantloop_search::SearchIndex>> {
        self.search.as_ref()
    }

    pub fn recommender(&self) -> &ModelSlot<Recommender> {
        &self.recommender
    }

    /// Brings every served model in step with the registry.
    pub async fn refresh_models(&self) -> Result<(), StoreError> {
        self.classifier.refresh(self.store.as_ref()).await?;
        self.recommender.refresh(self.store.as_ref()).await?;
        Ok(())
    }

    /// Classifies a text with the active model, or with the keyword rules when
    /// no model is active or the model's label is not a category slug.
    pub fn classify_text(&self, text: &str) -> ClassifyResult {
        let threshold = self.config.review_threshold;
        if let Some(loaded) = self.classifier.get() {
            let p = loaded.model.predict(text);
            if Category::parse("category", &p.label).is_ok() {
                return ClassifyResult {
                    needs_review: p.confidence < threshold,
                    category: p.label,
                    confidence: p.confidence,
                    source: loaded.info.tag(),
                    top: p.top,
                };
            }
        }
        let (category, confidence) = rules::classify(text);
        ClassifyResult {
            needs_review: confidence < threshold,
            category,
            confidence,
            source: "rules".into(),
            top: Vec::new(),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The category of a new demand: as given, else classified (and flagged
    /// for review when the classifier is unsure).
    pub fn classify(&self, d: &NewDemand) -> Classification {
        match &d.category {
            Some(c) => Classification::given(c.as_str()),
            None => {
                let r = self.classify_text(d.text.as_str());
                Classification {
                    category: r.category,
                    source: CategorySource::Classified,
                    confidence: r.confidence,
                    model: Some(r.source),
                    needs_review: r.needs_review,
                }
            }
        }
    }

    pub async fn create_demand(&self, d: &NewDemand, idem: Option<&IdemKey>) -> Result<Outcome<Demand>, StoreError> {
        self.store.create_demand(d, &self.classify(d), idem).await
    }

    fn to_new_match(&self, p: wantloop_match::Proposal) -> NewMatch {
        NewMatch {
            offer_id: p.offer_id,
            units: p.units,
            score: p.score,
            features: p.features,
            ttl_ms: Some(self.config.proposal_ttl_ms),
        }
    }

    /// Brings the index up to the store's latest event first, so a match sees
    /// offers posted a moment ago (read-your-writes for the matcher).
    async fn fresh_index(&self) {
        let Some(index) = &self.search else { return };
        match self.store.last_event_id().await {
            Ok(last) if last > index.cursor() => {
                if let Err(e) = crate::indexer::catch_up(self.store.as_ref(), index).await {
                    tracing::warn!(error = %e, "search catch-up failed");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the outbox position"),
        }
    }

    /// Text relevance of offers to a demand from the search index: BM25 with
    /// the demand's filters applied in the index, divided by the query's best
    /// score. `None` without an index (token overlap is used instead).
    pub fn text_scores(&self, d: &Demand) -> Option<TextScores> {
        let index = self.search.as_ref()?;
        match index.offers_for_demand(d, CANDIDATES_FROM_INDEX) {
            Ok(hits) => {
                let best = hits.first().map_or(1.0, |h| f64::from(h.1)).max(f64::MIN_POSITIVE);
                Some(hits.into_iter().map(|(id, s)| (id, f64::from(s) / best)).collect())
            }
            Err(e) => {
                tracing::warn!(error = %e, "search relevance failed; using token overlap");
                None
            }
        }
    }

    /// Candidate offers for a demand: the index's best BM25 matches (filters
    /// applied in the index) re-checked against the store, topped up from the
    /// store's own filtered list when the index finds few.
    async fn candidates(&self, d: &Demand, text: Option<&TextScores>) -> Result<Vec<Offer>, StoreError> {
        if let Some(scores) = text
            && scores.len() >= CANDIDATES_FROM_INDEX / 4
        {
            let ids: Vec<i64> = scores.keys().copied().collect();
            return self.store.offers_by_ids(&ids).await;
        }
        self.store.candidate_offers(d).await
    }

    /// Proposes the best feasible offers for one demand and reserves their units.
    pub async fn match_demand(&self, demand_id: i64, idem: Option<&IdemKey>) -> Result<Outcome<Proposal>, StoreError> {
        let d = self.store.get_demand(demand_id).await?;
        self.fresh_index().await;
        let text = self.text_scores(&d);
        let offers = if d.status.is_terminal() { Vec::new() } else { self.candidates(&d, text.as_ref()).await? };
        let plan = plan_for_demand(&d, &offers, self.config.weights, self.config.min_score, now_ms(), text.as_ref());
        let proposals: Vec<NewMatch> = plan.into_iter().map(|p| self.to_new_match(p)).collect();
        self.store.propose_matches(demand_id, &proposals, idem).await
    }

    /// Feasible offers for a demand, best first, without reserving anything.
    pub async fn candidates_for_demand(&self, demand_id: i64, limit: usize) -> Result<Vec<ScoredOffer>, StoreError> {
        let d = self.store.get_demand(demand_id).await?;
        self.fresh_index().await;
        let text = self.text_scores(&d);
        let offers = self.candidates(&d, text.as_ref()).await?;
        let scorer = Scorer::new(&d, self.config.weights, now_ms()).with_text_scores(text.as_ref());
        let mut out: Vec<ScoredOffer> = offers
            .into_iter()
            .filter(|o| violation(&d, o).is_none())
            .map(|o| {
                let features = scorer.features(&o);
                ScoredOffer { score: scorer.score(&features), offer: o, features }
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.offer.id.cmp(&b.offer.id)));
        out.truncate(limit);
        Ok(out)
    }

    /// Open demands an offer could fulfil, best first: "show the requests this
    /// inventory can serve".
    pub async fn demands_for_offer(&self, offer_id: i64, limit: usize) -> Result<Vec<ScoredDemand>, StoreError> {
        let o = self.store.get_offer(offer_id).await?;
        let filter =
            DemandFilter { status: Some(DemandStatus::Open), category: Some(o.category.clone()), ..Default::default() };
        let demands = self.store.all_demands(&filter).await?;
        let now = now_ms();
        let mut out: Vec<ScoredDemand> = demands
            .into_iter()
            .filter(|d| violation(d, &o).is_none())
            .map(|d| {
                let scorer = Scorer::new(&d, self.config.weights, now);
                let features = scorer.features(&o);
                let score = scorer.score(&features);
                ScoredDemand { demand: d, score, features }
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.demand.id.cmp(&b.demand.id)));
        out.truncate(limit);
        Ok(out)
    }

    /// Allocates supply over all open demands at once (exact optimum or greedy)
    /// and proposes the result; `dry_run` only reports what it would do.
    pub async fn allocate(&self, mode: Mode, dry_run: bool) -> Result<AllocationReport, EngineError> {
        let _one_at_a_time = self.allocating.lock().await;
        let started = Instant::now();
        let open = DemandFilter { status: Some(DemandStatus::Open), ..Default::default() };
        let demands = self.store.all_demands(&open).await?;
        let available = OfferFilter { status: Some(OfferStatus::Available), ..Default::default() };
        let offers = self.store.all_offers(&available).await?;
        let options = BuildOptions {
            weights: self.config.weights,
            min_score: self.config.min_score,
            max_candidates: self.config.max_candidates,
            now: now_ms(),
        };
        self.fresh_index().await;
        let text: std::collections::HashMap<i64, TextScores> =
            demands.iter().filter_map(|d| self.text_scores(d).map(|t| (d.id, t))).collect();
        let plan = batch::build(&demands, &offers, &options, &text);
        let solve_started = Instant::now();
        let solution = batch::solve(&plan, mode)?;
        let solve_seconds = solve_started.elapsed().as_secs_f64();
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
            solve_seconds,
            ..Default::default()
        };
        if !dry_run {
            for (demand_id, proposals) in batch::proposals(&plan, &solution) {
                let proposals: Vec<NewMatch> = proposals.into_iter().map(|p| self.to_new_match(p)).collect();
                let outcome = match self.store.propose_matches(demand_id, &proposals, None).await {
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
        Ok(report)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("allocation failed: {0}")]
    Alloc(#[from] wantloop_alloc::AllocError),
    #[error(transparent)]
    Classifier(#[from] wantloop_ml::classifier::ClassifierError),
    #[error("training failed: {0}")]
    Training(String),
}
