//! Batch allocation over all open demands: build the bipartite instance
//! (demands' open units, offers' free units, feasible scored edges), solve it
//! exactly or greedily with `wantloop-alloc`, and turn the flows back into
//! per-demand proposals.

use std::collections::HashMap;

use wantloop_alloc::{AllocError, Edge, Instance, Solution};
use wantloop_core::{Demand, FeatureScores, FeatureValues, Offer};

use crate::constraints::violation;
use crate::plan::Proposal;
use crate::score::Scorer;
use crate::scoring::{Scoring, Signals};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The global optimum (min-cost flow).
    Optimal,
    /// Best edges first; for comparison.
    Greedy,
}

/// A batch instance and what is needed to map its solution back to ids.
pub struct BatchPlan {
    pub instance: Instance,
    pub demand_ids: Vec<i64>,
    pub offer_ids: Vec<i64>,
    /// Per edge: the unweighted match score and its features.
    pub edge_detail: Vec<EdgeDetail>,
}

/// An edge's unweighted score and features, compactly: a market of a
/// million demands has tens of millions of edges. The v1 features and the
/// score keep single precision; the market's signals, all in [0, 1] but
/// popularity (a logarithm, below 64), keep 16-bit fixed point (resolution
/// 1.5e-5, popularity 1e-3). 38 bytes instead of 112 in double precision.
#[derive(Debug, Clone, Copy)]
pub struct EdgeDetail {
    score: f32,
    text: f32,
    price: f32,
    distance: f32,
    freshness: f32,
    /// NaN when either side has no location.
    distance_km: f32,
    /// category confidence, provider fulfil and reject rates, affinity,
    /// popularity / 64, offer rating, visual similarity.
    signals: [u16; 7],
}

const POPULARITY_RANGE: f64 = 64.0;

fn to_fixed(x: f64) -> u16 {
    (x.clamp(0.0, 1.0) * f64::from(u16::MAX)).round() as u16
}

fn from_fixed(x: u16) -> f64 {
    f64::from(x) / f64::from(u16::MAX)
}

impl EdgeDetail {
    fn new(score: f64, f: &FeatureScores) -> Self {
        Self {
            score: score as f32,
            text: f.text as f32,
            price: f.price as f32,
            distance: f.distance as f32,
            freshness: f.freshness as f32,
            distance_km: f.distance_km.map_or(f32::NAN, |km| km as f32),
            signals: [
                to_fixed(f.category_confidence),
                to_fixed(f.provider_fulfil_rate),
                to_fixed(f.provider_reject_rate),
                to_fixed(f.affinity),
                to_fixed(f.popularity / POPULARITY_RANGE),
                to_fixed(f.offer_rating),
                to_fixed(f.visual),
            ],
        }
    }

    pub fn score(&self) -> f64 {
        f64::from(self.score)
    }

    /// The features as kept (no explanation: see [`proposals`]).
    pub fn features(&self) -> FeatureScores {
        let s = self.signals.map(from_fixed);
        let values = [
            f64::from(self.text),
            f64::from(self.price),
            f64::from(self.distance),
            f64::from(self.freshness),
            s[0],
            s[1],
            s[2],
            s[3],
            s[4] * POPULARITY_RANGE,
            s[5],
            s[6],
        ];
        FeatureScores {
            distance_km: (!self.distance_km.is_nan()).then_some(f64::from(self.distance_km)),
            ..FeatureValues::from_vector(&values).into()
        }
    }
}

/// Options of [`build`].
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub scoring: Scoring,
    pub min_score: f64,
    /// At most this many best-scoring candidate offers per demand, to bound the
    /// instance size on large markets.
    pub max_candidates: usize,
    pub now: i64,
}

/// A demand's feasible candidates, scored, best first, at most
/// `max_candidates`: (score, offer, features). Pure, so callers may score many
/// demands in parallel.
pub fn score_candidates<'o>(
    d: &Demand,
    candidates: impl IntoIterator<Item = &'o Offer>,
    opt: &BuildOptions,
    text: Option<&crate::score::TextScores>,
    signals: Option<&dyn Fn(&Offer) -> Signals>,
) -> Vec<(f64, &'o Offer, FeatureScores)> {
    if d.open_units() <= 0 {
        return Vec::new();
    }
    let scorer = Scorer::new(d, &opt.scoring, opt.now).with_text_scores(text).with_signals(signals);
    // A learned score has no fixed scale or sign: the floor is the v1 weights'.
    let floor = if opt.scoring.is_learned() { f64::NEG_INFINITY } else { opt.min_score };
    let mut scored: Vec<(f64, &Offer, FeatureScores)> = candidates
        .into_iter()
        .filter(|o| o.free_units() > 0 && violation(d, o).is_none())
        .map(|o| {
            let f = scorer.features(o);
            (scorer.score(&f), o, f)
        })
        .filter(|(s, _, _)| *s >= floor && (opt.scoring.is_learned() || *s > 0.0))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    scored.truncate(opt.max_candidates);
    scored
}

/// Builds a batch instance one demand at a time, so a caller can stream the
/// market through it (a page of demands and their candidates at a time)
/// instead of holding every demand and offer. Edge weights are match scores
/// times the demand's priority weight, so urgent needs win scarce supply.
#[derive(Default)]
pub struct BatchBuilder {
    plan: BatchPlan,
    /// Offer id → its node in the instance.
    offer_node: HashMap<i64, u32>,
}

impl Default for BatchPlan {
    fn default() -> Self {
        Self {
            instance: Instance { demand_qty: Vec::new(), offer_cap: Vec::new(), edges: Vec::new() },
            demand_ids: Vec::new(),
            offer_ids: Vec::new(),
            edge_detail: Vec::new(),
        }
    }
}

impl BatchBuilder {
    /// Adds a demand with its scored candidates (from [`score_candidates`]).
    /// An offer's free units are read the first time it appears.
    pub fn add(&mut self, d: &Demand, scored: Vec<(f64, &Offer, FeatureScores)>, scoring: &Scoring) {
        if scored.is_empty() || d.open_units() <= 0 {
            return;
        }
        let p = &mut self.plan;
        let di = p.demand_ids.len() as u32;
        p.demand_ids.push(d.id);
        p.instance.demand_qty.push(d.open_units() as u32);
        let weight = d.priority.weight();
        for (score, o, f) in scored {
            let oi = *self.offer_node.entry(o.id).or_insert_with(|| {
                p.offer_ids.push(o.id);
                p.instance.offer_cap.push(o.free_units() as u32);
                (p.offer_ids.len() - 1) as u32
            });
            p.instance.edges.push(Edge { demand: di, offer: oi, score: scoring.allocation_weight(score) * weight });
            p.edge_detail.push(EdgeDetail::new(score, &f));
        }
    }

    pub fn edges(&self) -> usize {
        self.plan.instance.edges.len()
    }

    pub fn finish(self) -> BatchPlan {
        self.plan
    }
}

/// Builds the instance over whole lists, every demand against every offer
/// of its category (small markets and tests; the engine streams through
/// [`BatchBuilder`] with the index's candidates instead).
pub fn build(
    demands: &[Demand],
    offers: &[Offer],
    opt: &BuildOptions,
    text_scores: &HashMap<i64, crate::score::TextScores>,
) -> BatchPlan {
    let mut by_category: HashMap<&str, Vec<&Offer>> = HashMap::new();
    for o in offers.iter().filter(|o| o.free_units() > 0) {
        by_category.entry(o.category.as_str()).or_default().push(o);
    }
    let mut builder = BatchBuilder::default();
    for d in demands {
        let Some(pool) = by_category.get(d.category.as_str()) else { continue };
        builder.add(d, score_candidates(d, pool.iter().copied(), opt, text_scores.get(&d.id), None), &opt.scoring);
    }
    builder.finish()
}

pub fn solve(plan: &BatchPlan, mode: Mode) -> Result<Solution, AllocError> {
    match mode {
        Mode::Optimal => wantloop_alloc::solve_optimal(&plan.instance),
        Mode::Greedy => wantloop_alloc::solve_greedy(&plan.instance),
    }
}

/// The solution as proposals grouped by demand id, best first within a
/// demand. Each proposal's score and explanation are computed by `scoring`
/// from the features as kept, so the two agree exactly.
pub fn proposals(plan: &BatchPlan, solution: &Solution, scoring: &Scoring) -> Vec<(i64, Vec<Proposal>)> {
    let mut by_demand: HashMap<u32, Vec<Proposal>> = HashMap::new();
    for &(edge, units) in &solution.flows {
        if units == 0 {
            continue;
        }
        let e = &plan.instance.edges[edge];
        let mut features = plan.edge_detail[edge].features();
        let score = scoring.score_explained(&mut features);
        by_demand.entry(e.demand).or_default().push(Proposal {
            offer_id: plan.offer_ids[e.offer as usize],
            units: i64::from(units),
            score,
            features,
        });
    }
    let mut out: Vec<(i64, Vec<Proposal>)> = by_demand
        .into_iter()
        .map(|(d, mut ps)| {
            ps.sort_by(|a, b| b.score.total_cmp(&a.score));
            (plan.demand_ids[d as usize], ps)
        })
        .collect();
    out.sort_by_key(|(id, _)| *id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::{demand, offer};
    use wantloop_core::Priority;

    fn opts() -> BuildOptions {
        BuildOptions {
            scoring: Scoring::Weights(crate::Weights::default()),
            min_score: 0.0,
            max_candidates: 50,
            now: 0,
        }
    }

    #[test]
    fn optimal_beats_greedy_when_the_best_edge_blocks_two_good_ones() {
        // d1 likes `great` most but can also use `other`; d2 can reach only `great`.
        let mut d1 = demand(1, "a", Some(50_000));
        d1.id = 1;
        let mut d2 = demand(1, "b", Some(50_000));
        d2.id = 2;
        d2.priority = Priority::Low;
        d2.max_distance_km = Some(2.0);
        let mut great = offer(10, "p", 0);
        great.capacity = 1;
        let mut other = offer(11, "q", 30_000);
        other.capacity = 1;
        other.location = Some(wantloop_core::GeoPoint { lat: 30.35, lon: 120.15 }); // ~9 km away
        let plan = build(&[d1, d2], &[great, other], &opts(), &HashMap::new());
        assert_eq!(plan.instance.edges.len(), 3);
        let opt = solve(&plan, Mode::Optimal).unwrap();
        let greedy = solve(&plan, Mode::Greedy).unwrap();
        assert_eq!((opt.units, greedy.units), (2, 1));
        assert!(opt.objective > greedy.objective);
        let got = proposals(&plan, &opt, &opts().scoring);
        let pairs: Vec<(i64, i64)> = got.iter().map(|(d, ps)| (*d, ps[0].offer_id)).collect();
        assert_eq!(pairs, [(1, 11), (2, 10)]);
    }

    #[test]
    fn edge_details_keep_features_to_single_precision_and_a_missing_distance() {
        let f = FeatureScores {
            text: 0.75,
            price: 0.1,
            distance: 0.3,
            freshness: 0.9,
            distance_km: Some(12.5),
            affinity: 0.42,
            popularity: 7.3,
            provider_reject_rate: 0.2,
            visual: 0.83,
            ..FeatureScores::default()
        };
        let back = EdgeDetail::new(0.61, &f).features();
        assert!((back.visual - 0.83).abs() < 2e-5);
        assert_eq!(back.distance_km, Some(12.5));
        assert!((back.affinity - 0.42).abs() < 2e-5 && (back.popularity - 7.3).abs() < 1e-3);
        assert!((back.provider_reject_rate - 0.2).abs() < 2e-5 && back.offer_rating == 0.0);
        assert!((back.price - 0.1).abs() < 1e-7 && (EdgeDetail::new(0.61, &f).score() - 0.61).abs() < 1e-7);
        let none = FeatureScores { distance_km: None, ..f };
        assert_eq!(EdgeDetail::new(0.61, &none).features().distance_km, None);
    }

    #[test]
    fn skips_satisfied_demands_and_full_offers() {
        let mut d = demand(1, "a", None);
        d.matched_units = 1;
        let mut o = offer(1, "p", 0);
        o.reserved = o.capacity;
        let plan = build(&[d.clone()], &[offer(2, "p", 0)], &opts(), &HashMap::new());
        assert!(plan.instance.demand_qty.is_empty());
        d.matched_units = 0;
        let plan = build(&[d], &[o], &opts(), &HashMap::new());
        assert!(plan.instance.offer_cap.is_empty() && plan.instance.edges.is_empty());
    }
}
