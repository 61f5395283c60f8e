//! The matcher's pools: each offer and demand is indexed under terms that
//! join its kind, status, category and grid cell (`offer|available|bikes|1:30:120`),
//! so "available offers of this category near here" is one union of at most
//! [`cells::MAX_CELLS`] short posting lists, each holding only documents
//! that could be candidates. Intersecting the kind, status, category and
//! cell lists separately (each a tenth to a half of the index) made a
//! matcher's query seek through four long lists per candidate, a cost that
//! grew with the catalogue. The exact distance and price are still checked on
//! the matched documents (`reach.rs`).

use wantloop_core::GeoPoint;

use crate::cells;

fn base(kind: &str, status: &str, category: &str) -> String {
    format!("{kind}|{status}|{category}")
}

/// An offer's pool terms: its pool, and its pool in each of its cells.
pub fn of_offer(status: &str, category: &str, at: Option<GeoPoint>) -> Vec<String> {
    let b = base("offer", status, category);
    let mut out = vec![b.clone()];
    out.extend(at.into_iter().flat_map(cells::of_point).map(|c| format!("{b}|{c}")));
    out
}

/// A demand's pool terms: its pool, and its pool in each cell its radius
/// reaches (`cells::reach_of`, `any` without a radius).
pub fn of_demand(status: &str, category: &str, at: Option<GeoPoint>, max_km: Option<f64>) -> Vec<String> {
    let b = base("demand", status, category);
    let mut out = vec![b.clone()];
    out.extend(cells::reach_of(at, max_km).into_iter().map(|c| format!("{b}|reach|{c}")));
    out
}

/// Terms of the available offers of `category` a demand at `at` reaching
/// `km` may take: those in the cells covering its circle, or the whole pool
/// when it has no radius or the circle is too wide to name its cells.
pub fn offers_within(category: &str, circle: Option<(GeoPoint, f64)>) -> Vec<String> {
    let b = base("offer", "available", category);
    match circle.and_then(|(at, km)| cells::covering(at, km)) {
        Some(cs) => cs.into_iter().map(|c| format!("{b}|{c}")).collect(),
        None => vec![b],
    }
}

/// Terms of the open demands of `category` whose reach includes an offer
/// at `at` (any of its cells, or reaching anywhere).
pub fn demands_reaching(category: &str, at: Option<GeoPoint>) -> Vec<String> {
    let b = base("demand", "open", category);
    cells::reaching(at).into_iter().map(|c| format!("{b}|reach|{c}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_is_in_the_pool_a_demand_around_it_asks_for() {
        let at = GeoPoint { lat: 30.27, lon: 120.15 };
        let offer = of_offer("available", "bikes", Some(at));
        for km in [1.0, 10.0, 80.0] {
            let wanted = offers_within("bikes", Some((at, km)));
            assert!(wanted.iter().any(|t| offer.contains(t)), "{km} km: {wanted:?} vs {offer:?}");
            assert!(!offers_within("books", Some((at, km))).iter().any(|t| offer.contains(t)));
        }
        assert!(!of_offer("exhausted", "bikes", Some(at)).iter().any(|t| offers_within("bikes", None).contains(t)));
        assert!(offers_within("bikes", None).iter().all(|t| offer.contains(t)));
    }

    #[test]
    fn a_demand_is_found_by_the_offers_it_reaches() {
        let at = GeoPoint { lat: 30.27, lon: 120.15 };
        let demand = of_demand("open", "bikes", Some(at), Some(10.0));
        assert!(demands_reaching("bikes", Some(at)).iter().any(|t| demand.contains(t)));
        let anywhere = of_demand("open", "bikes", None, None);
        assert!(demands_reaching("bikes", None).iter().any(|t| anywhere.contains(t)));
        assert!(!demands_reaching("bikes", None).iter().any(|t| demand.contains(t)));
        assert!(!demands_reaching("books", Some(at)).iter().any(|t| demand.contains(t)));
    }
}
