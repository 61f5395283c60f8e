//! The matcher's hard filters inside the index: for many random demands and
//! offers, what the index returns is exactly the feasible set a brute-force
//! check over every document finds (radius, budget, category, availability,
//! not one's own), in both directions, and `near` searches count only what is
//! inside the circle.

use wantloop_core::demand::CategorySource;
use wantloop_core::{Demand, DemandStatus, GeoPoint, Offer, OfferStatus, Priority};
use wantloop_search::{Kind, Near, SearchIndex, SearchRequest};

/// A small deterministic generator (xorshift), so the test needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() % 1_000_000) as f64 / 1_000_000.0
    }
}

const WORDS: [&str; 8] = ["自行车", "山地车", "婴儿床", "书桌", "bike", "desk", "二手", "九成新"];
const CATEGORIES: [&str; 2] = ["bicycles", "furniture"];
const PEOPLE: [&str; 4] = ["ann", "bob", "cai", "dan"];

fn text(rng: &mut Rng) -> String {
    (0..3).map(|_| WORDS[rng.below(WORDS.len() as u64) as usize]).collect::<Vec<_>>().join(" ")
}

/// Somewhere within about 60 km of Hangzhou, or nowhere (one in ten).
fn place(rng: &mut Rng) -> Option<GeoPoint> {
    (rng.below(10) > 0)
        .then(|| GeoPoint { lat: 30.27 + (rng.unit() - 0.5) * 1.0, lon: 120.15 + (rng.unit() - 0.5) * 1.2 })
}

/// The market, committed every 100 documents so that the index has several
/// segments, as a served index between merges has.
fn market(seed: u64) -> (SearchIndex, Vec<Offer>, Vec<Demand>) {
    let mut rng = Rng(seed);
    let idx = SearchIndex::in_memory().unwrap();
    let mut cursor = 0;
    let mut commit_every_100 = |n: i64| {
        if n % 100 == 0 {
            cursor += 1;
            idx.commit(cursor).unwrap();
        }
    };
    let mut offers = Vec::new();
    for id in 1..=400 {
        let category = CATEGORIES[rng.below(2) as usize];
        let provider = PEOPLE[rng.below(4) as usize];
        let mut o = Offer::available(id, provider, &text(&mut rng), category, 1_000 * (1 + rng.below(50) as i64));
        o.location = place(&mut rng);
        o.created_at = id;
        if rng.below(8) == 0 {
            o.status = OfferStatus::Exhausted;
        }
        idx.upsert_offer(&o).unwrap();
        offers.push(o);
        commit_every_100(id);
    }
    let mut demands = Vec::new();
    for id in 1..=300 {
        let d = Demand {
            id,
            requester: PEOPLE[rng.below(4) as usize].into(),
            text: text(&mut rng),
            category: CATEGORIES[rng.below(2) as usize].into(),
            category_source: CategorySource::Given,
            category_confidence: 1.0,
            category_model: None,
            needs_review: false,
            priority: Priority::Normal,
            budget: (rng.below(3) > 0).then(|| 1_000 * (1 + rng.below(50) as i64)),
            location: place(&mut rng),
            max_distance_km: (rng.below(3) > 0).then(|| 5.0 + rng.unit() * 40.0),
            quantity: 1,
            matched_units: 0,
            fulfilled_units: 0,
            status: if rng.below(8) == 0 { DemandStatus::Matched } else { DemandStatus::Open },
            created_at: id,
            updated_at: id,
            expires_at: None,
        };
        idx.upsert_demand(&d).unwrap();
        demands.push(d);
        commit_every_100(id);
    }
    idx.commit(1_000).unwrap();
    (idx, offers, demands)
}

/// The rule the matcher applies (`wantloop_match::constraints::violation`),
/// restated here so the index is checked against it independently.
fn feasible(d: &Demand, o: &Offer) -> bool {
    let within = match d.max_distance_km {
        None => true,
        Some(km) => d.location.zip(o.location).is_some_and(|(a, b)| a.distance_km(&b) <= km),
    };
    o.status == OfferStatus::Available
        && o.category == d.category
        && o.provider != d.requester
        && d.budget.is_none_or(|b| o.price <= b)
        && within
}

/// A matcher lists its pool and scores it by hand (`listed.rs`) unless the
/// pool is larger than the listing limit; 0 makes it run the tantivy query.
/// Every matcher test runs both ways.
const BOTH_WAYS: [u64; 2] = [u64::MAX, 0];

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort();
    v
}

#[test]
fn offers_for_a_demand_are_exactly_the_feasible_ones() {
    let (idx, offers, demands) = market(0x9e37_79b9_7f4a_7c15);
    let mut checked = 0;
    for (d, listing) in demands.iter().flat_map(|d| BOTH_WAYS.map(|l| (d, l))) {
        idx.set_listing_limit(listing);
        let want: Vec<i64> = offers.iter().filter(|o| feasible(d, o)).map(|o| o.id).collect();
        // A limit above the market's size: the index must return all of them, and nothing else.
        let hits = idx.offers_for_demand(d, 1_000).unwrap();
        // Each hit carries the offer's own scoring fields, read from the index.
        for h in &hits {
            let o = offers.iter().find(|o| o.id == h.id).unwrap();
            assert_eq!((h.price, h.location, h.created_at), (Some(o.price), o.location, o.created_at), "{h:?}");
        }
        let got = sorted(hits.into_iter().map(|h| h.id).collect());
        assert_eq!(got, want, "demand {d:?}");
        checked += usize::from(!want.is_empty());
        // With a small limit, text matches come first and all are feasible.
        let top = idx.offers_for_demand(d, 5).unwrap();
        assert_eq!(top.len(), want.len().min(5));
        assert!(top.iter().all(|h| want.contains(&h.id)));
        assert!(top.windows(2).all(|w| w[0].relevance >= w[1].relevance), "best first: {top:?}");
    }
    assert!(checked > 200, "the market is too sparse to test anything ({checked} demands with candidates)");
}

/// A text that shares no term with any offer: every candidate comes from
/// the top-up (score 0), which must find the same feasible set, bounded by
/// the limit, across segments.
#[test]
fn a_text_sharing_no_term_still_finds_exactly_the_feasible_offers() {
    let (idx, offers, demands) = market(0x5851_f42d_4c95_7f2d);
    let mut topped_up = 0;
    for (d, listing) in demands.iter().flat_map(|d| BOTH_WAYS.map(|l| (d, l))) {
        idx.set_listing_limit(listing);
        let d = Demand { text: "完全无关 zzzz".into(), ..d.clone() };
        let want: Vec<i64> = offers.iter().filter(|o| feasible(&d, o)).map(|o| o.id).collect();
        let got = idx.offers_for_demand(&d, 1_000).unwrap();
        assert!(got.iter().all(|h| h.relevance == 0.0), "{got:?}");
        assert_eq!(sorted(got.into_iter().map(|h| h.id).collect()), want, "demand {d:?}");
        let few = idx.offers_for_demand(&d, 3).unwrap();
        assert_eq!(few.len(), want.len().min(3));
        // Newest first: offers were indexed in the order of their ids.
        let newest: Vec<i64> = want.iter().rev().take(3).copied().collect();
        assert_eq!(few.iter().map(|h| h.id).collect::<Vec<_>>(), newest, "demand {d:?}");
        topped_up += usize::from(want.len() > 3);
    }
    assert!(topped_up > 100, "{topped_up}");
}

/// One large segment where only one offer in 500 passes the demand's budget:
/// the top-up reads backwards in several windows, each sized by the share
/// that passed in those before, and still finds every feasible offer,
/// newest first, and a short list from the end of the segment only.
#[test]
fn a_sparse_pool_in_one_large_segment_is_topped_up_newest_first() {
    let idx = SearchIndex::in_memory().unwrap();
    let at = GeoPoint { lat: 30.27, lon: 120.15 };
    for id in 1..=3_000 {
        let price = if id % 500 == 1 { 1_000 } else { 90_000 };
        let mut o = Offer::available(id, "shop", "自行车 bike", "bikes", price);
        o.location = Some(at);
        o.created_at = id;
        idx.upsert_offer(&o).unwrap();
    }
    idx.commit(1).unwrap();
    let d = Demand {
        id: 1,
        requester: "someone".into(),
        text: "完全无关 zzzz".into(),
        category: "bikes".into(),
        category_source: CategorySource::Given,
        category_confidence: 1.0,
        category_model: None,
        needs_review: false,
        priority: Priority::Normal,
        budget: Some(5_000),
        location: Some(at),
        max_distance_km: Some(10.0),
        quantity: 1,
        matched_units: 0,
        fulfilled_units: 0,
        status: DemandStatus::Open,
        created_at: 1,
        updated_at: 1,
        expires_at: None,
    };
    let ids = |limit| idx.offers_for_demand(&d, limit).unwrap().into_iter().map(|h| h.id).collect::<Vec<_>>();
    for listing in BOTH_WAYS {
        idx.set_listing_limit(listing);
        assert_eq!(ids(100), vec![2_501, 2_001, 1_501, 1_001, 501, 1]);
        assert_eq!(ids(2), vec![2_501, 2_001]);
    }
}

/// The listed pool scored by hand and the tantivy query rank the same
/// documents with the same BM25, in both directions, for short and long lists.
#[test]
fn a_listed_pool_ranks_as_the_query_does() {
    let (idx, offers, demands) = market(0x2f69_8e3a_c4b1_5d07);
    let (mut compared, mut scored) = (0, 0);
    let both = |run: &dyn Fn() -> Vec<wantloop_search::MatchHit>| {
        idx.set_listing_limit(u64::MAX);
        let listed = run();
        idx.set_listing_limit(0);
        (listed, run())
    };
    for limit in [3, 1_000] {
        for d in &demands {
            let (listed, queried) = both(&|| idx.offers_for_demand(d, limit).unwrap());
            assert_same(&listed, &queried, limit, &format!("demand {} limit {limit}", d.id));
            scored += listed.iter().filter(|h| h.relevance > 0.0).count();
            compared += 1;
        }
        for o in offers.iter().filter(|o| o.status == OfferStatus::Available) {
            let (listed, queried) = both(&|| idx.demands_for_offer(o, limit).unwrap());
            assert_same(&listed, &queried, limit, &format!("offer {} limit {limit}", o.id));
            compared += 1;
        }
    }
    assert!(compared > 1_000 && scored > 1_000, "{compared} lists, {scored} scored hits");
}

/// Same relevance, hit by hit, up to float summation order, and the same
/// scored ids. Equal scores may come in another order, so ids are compared as
/// sets of (score, id); in a list cut at its limit, hits tied with the last
/// one may differ, so those are left out.
fn assert_same(a: &[wantloop_search::MatchHit], b: &[wantloop_search::MatchHit], limit: usize, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x.relevance - y.relevance).abs() <= 1e-4 * x.relevance.max(1.0), "{what}: {a:?} vs {b:?}");
    }
    let key = |h: &wantloop_search::MatchHit| ((h.relevance * 1e3).round() as i64, h.id);
    let last = a.last().map_or(0, |h| key(h).0);
    let keys = |hits: &[wantloop_search::MatchHit]| {
        let mut k: Vec<_> =
            hits.iter().map(key).filter(|(score, _)| *score > 0 && (hits.len() < limit || *score > last)).collect();
        k.sort();
        k
    };
    assert_eq!(keys(a), keys(b), "{what}");
}

#[test]
fn demands_for_an_offer_are_exactly_the_open_feasible_ones() {
    let (idx, offers, demands) = market(0x2545_f491_4f6c_dd1d);
    let mut checked = 0;
    let available = offers.iter().filter(|o| o.status == OfferStatus::Available);
    for (o, listing) in available.flat_map(|o| BOTH_WAYS.map(|l| (o, l))) {
        idx.set_listing_limit(listing);
        let want: Vec<i64> =
            demands.iter().filter(|d| d.status == DemandStatus::Open && feasible(d, o)).map(|d| d.id).collect();
        let hits = idx.demands_for_offer(o, 1_000).unwrap();
        for h in &hits {
            let d = demands.iter().find(|d| d.id == h.id).unwrap();
            let fields = (h.price, h.location, h.max_km, h.created_at);
            assert_eq!(fields, (d.budget, d.location, d.max_distance_km, d.created_at), "{h:?}");
        }
        let got = sorted(hits.into_iter().map(|h| h.id).collect());
        assert_eq!(got, want, "offer {o:?}");
        checked += usize::from(!want.is_empty());
    }
    assert!(checked > 200, "{checked}");
}

#[test]
fn a_near_search_counts_only_what_is_inside_the_circle() {
    let (idx, offers, _) = market(0x1234_5678_9abc_def1);
    let at = GeoPoint { lat: 30.27, lon: 120.15 };
    for km in [3.0, 10.0, 25.0] {
        let want: Vec<i64> =
            offers.iter().filter(|o| o.location.is_some_and(|p| p.distance_km(&at) <= km)).map(|o| o.id).collect();
        let r = SearchRequest {
            kind: Some(Kind::Offer),
            near: Some(Near { lat: at.lat, lon: at.lon, km }),
            limit: 1_000,
            ..Default::default()
        };
        let res = idx.search(&r).unwrap();
        assert_eq!(sorted(res.hits.iter().map(|h| h.id).collect()), want, "{km} km");
        assert_eq!(res.total, want.len(), "total counts the circle, not its box ({km} km)");
        assert_eq!(res.facets.values().sum::<u64>() as usize, want.len());
    }
}
