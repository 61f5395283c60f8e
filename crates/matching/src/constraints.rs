//! Hard constraints: a pair that fails any of them is never proposed, whatever
//! its score. The store re-checks category, budget, ownership and capacity in its
//! guarded update; distance is checked only here.

use wantloop_core::{Demand, Offer, OfferStatus};

/// Why an offer cannot serve a demand, or `None` if it can.
pub fn violation(d: &Demand, o: &Offer) -> Option<&'static str> {
    if o.status != OfferStatus::Available || o.free_units() == 0 {
        return Some("offer has no free units");
    }
    if o.category != d.category {
        return Some("different category");
    }
    if o.provider == d.requester {
        return Some("own offer");
    }
    if d.budget.is_some_and(|b| o.price > b) {
        return Some("over budget");
    }
    if let Some(max_km) = d.max_distance_km {
        match (d.location, o.location) {
            (Some(a), Some(b)) if a.distance_km(&b) <= max_km => {}
            (Some(_), Some(_)) => return Some("too far"),
            _ => return Some("offer has no location to check the distance against"),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::{demand, offer};
    use wantloop_core::GeoPoint;

    #[test]
    fn each_constraint_excludes() {
        let d = demand(1, "alice", Some(30_000));
        assert_eq!(violation(&d, &offer(1, "bob", 20_000)), None);
        assert_eq!(violation(&d, &offer(1, "alice", 20_000)), Some("own offer"));
        assert_eq!(violation(&d, &offer(1, "bob", 30_001)), Some("over budget"));
        let mut far = offer(1, "bob", 100);
        far.location = Some(GeoPoint { lat: 31.23, lon: 121.47 }); // Shanghai, ~165 km
        assert_eq!(violation(&d, &far), Some("too far"));
        let mut nowhere = offer(1, "bob", 100);
        nowhere.location = None;
        assert!(violation(&d, &nowhere).is_some());
        let mut full = offer(1, "bob", 100);
        full.reserved = full.capacity;
        assert!(violation(&d, &full).is_some());
        let mut other = offer(1, "bob", 100);
        other.category = "books".into();
        assert_eq!(violation(&d, &other), Some("different category"));
    }
}
