//! Matching one demand: the best feasible offers, enough to cover its open units.

use wantloop_core::{Demand, FeatureScores, Offer};

use crate::constraints::violation;
use crate::score::{Scorer, TextScores};
use crate::scoring::{Scoring, Signals};

/// A proposed allocation of `units` of an offer, with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub offer_id: i64,
    pub units: i64,
    pub score: f64,
    pub features: FeatureScores,
}

/// Ranks feasible offers by score (ties: cheaper, then older id) and takes them
/// in order until the demand's open units are covered. Offers scoring below
/// `min_score` are not proposed (v1 weights only: a learned score has no fixed scale).
pub fn plan_for_demand(
    d: &Demand,
    offers: &[Offer],
    scoring: &Scoring,
    min_score: f64,
    now: i64,
    text_scores: Option<&TextScores>,
    signals: Option<&dyn Fn(&Offer) -> Signals>,
) -> Vec<Proposal> {
    let scorer = Scorer::new(d, scoring, now).with_text_scores(text_scores).with_signals(signals);
    // A learned score has no fixed scale: the floor applies to the v1 weights.
    let floor = if scoring.is_learned() { f64::NEG_INFINITY } else { min_score };
    let mut ranked: Vec<(f64, &Offer, FeatureScores)> = offers
        .iter()
        .filter(|o| violation(d, o).is_none())
        .map(|o| {
            let (score, f) = scorer.scored(o);
            (score, o, f)
        })
        .filter(|(s, _, _)| *s >= floor)
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.price.cmp(&b.1.price)).then(a.1.id.cmp(&b.1.id)));
    let mut open = d.open_units();
    let mut out = Vec::new();
    for (score, o, features) in ranked {
        if open == 0 {
            break;
        }
        let units = open.min(o.free_units());
        open -= units;
        out.push(Proposal { offer_id: o.id, units, score, features });
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use wantloop_core::demand::CategorySource;
    use wantloop_core::{DemandStatus, GeoPoint, Priority};

    pub(crate) fn demand(quantity: i64, requester: &str, budget: Option<i64>) -> Demand {
        Demand {
            id: 1,
            requester: requester.into(),
            text: "想买一台二手山地自行车".into(),
            category: "bicycles".into(),
            category_source: CategorySource::Given,
            category_confidence: 1.0,
            category_model: None,
            needs_review: false,
            priority: Priority::Normal,
            budget,
            location: Some(GeoPoint { lat: 30.27, lon: 120.15 }),
            max_distance_km: Some(20.0),
            quantity,
            matched_units: 0,
            fulfilled_units: 0,
            status: DemandStatus::Open,
            created_at: 0,
            updated_at: 0,
            expires_at: None,
        }
    }

    pub(crate) fn offer(id: i64, provider: &str, price: i64) -> Offer {
        Offer {
            location: Some(GeoPoint { lat: 30.28, lon: 120.16 }),
            capacity: 2,
            ..Offer::available(id, provider, "二手山地自行车 九成新", "bicycles", price)
        }
    }

    fn v1() -> Scoring {
        Scoring::Weights(crate::Weights::default())
    }

    #[test]
    fn fills_quantity_from_best_offers_and_skips_infeasible() {
        let d = demand(3, "alice", Some(50_000));
        let offers =
            vec![offer(1, "bob", 40_000), offer(2, "carol", 10_000), offer(3, "alice", 1), offer(4, "dan", 60_000)];
        let p = plan_for_demand(&d, &offers, &v1(), 0.0, 0, None, None);
        let picked: Vec<(i64, i64)> = p.iter().map(|p| (p.offer_id, p.units)).collect();
        assert_eq!(picked, [(2, 2), (1, 1)]);
        assert!(p[0].score >= p[1].score);
    }

    #[test]
    fn nothing_for_a_satisfied_demand_or_below_threshold() {
        let mut d = demand(1, "alice", None);
        let offers = vec![offer(1, "bob", 100)];
        assert!(plan_for_demand(&d, &offers, &v1(), 2.0, 0, None, None).is_empty());
        d.matched_units = 1;
        assert!(plan_for_demand(&d, &offers, &v1(), 0.0, 0, None, None).is_empty());
    }
}
