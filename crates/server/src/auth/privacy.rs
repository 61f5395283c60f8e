//! What a marketplace shows of other parties' rows: a demand's or an offer's
//! place only to a tenth of a degree (≈ 11 km north–south), enough to see the
//! city, not to find a door; and the distance to it in whole kilometres.
//! (The distance feature of a score is still computed from the exact places:
//! someone probing with many demands at chosen points could narrow a place
//! down from scores; see the README.)

use wantloop_core::{Demand, FeatureScores, GeoPoint, Offer};

use super::Caller;

/// Degrees a coarse coordinate is rounded to.
pub const COARSE_DEGREES: f64 = 0.1;

fn coarse(p: GeoPoint) -> GeoPoint {
    let round = |v: f64| (v / COARSE_DEGREES).round() / COARSE_DEGREES.recip();
    GeoPoint { lat: round(p.lat), lon: round(p.lon) }
}

pub fn demand(caller: &Caller, mut d: Demand) -> Demand {
    if !caller.acts_for(&d.requester) {
        d.location = d.location.map(coarse);
    }
    d
}

pub fn offer(caller: &Caller, mut o: Offer) -> Offer {
    if !caller.acts_for(&o.provider) {
        o.location = o.location.map(coarse);
    }
    o
}

/// A score's features as another party may see them: the distance in whole
/// kilometres (at least 1).
pub fn features(caller: &Caller, owner: &str, mut f: FeatureScores) -> FeatureScores {
    if !caller.acts_for(owner) {
        f.distance_km = f.distance_km.map(|d| d.round().max(1.0));
    }
    f
}

#[cfg(test)]
mod tests {
    use wantloop_core::Role;

    use super::*;

    #[test]
    fn coordinates_round_to_a_tenth_of_a_degree() {
        let p = coarse(GeoPoint { lat: 30.274_83, lon: 120.155_07 });
        assert_eq!((p.lat, p.lon), (30.3, 120.2));
        let q = coarse(GeoPoint { lat: -33.86, lon: 151.21 });
        assert_eq!((q.lat, q.lon), (-33.9, 151.2));
        let user = Caller { key: Some(1), role: Role::User, party: Some("alice".into()) };
        assert!(user.acts_for("alice") && !user.acts_for("bob"));
        let f = FeatureScores { distance_km: Some(1.4321), ..FeatureScores::default() };
        assert_eq!(features(&user, "bob", f).distance_km, Some(1.0));
        assert_eq!(features(&user, "alice", f).distance_km, Some(1.4321));
    }
}
