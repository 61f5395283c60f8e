//! One conformance suite for every `Store` backend: each scenario runs on SQLite
//! and, when `WANTLOOP_TEST_PG_URL` is set, on a fresh PostgreSQL database.

use std::sync::Arc;

use wantloop_core::demand::{DemandInput, LocationInput};
use wantloop_core::matching::RelistInput;
use wantloop_core::{
    Demand, DemandStatus, FeatureScores, Match, MatchStatus, MatchTransition, Offer, OfferInput, OfferStatus,
};
use wantloop_store::*;

type S = Arc<dyn Store>;

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = wantloop_store::testing::TestDb::sqlite().await.expect("sqlite test database");
                    super::$name(std::sync::Arc::new(db.store.clone())).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = wantloop_store::testing::TestDb::postgres().await.expect("postgres test database") else { return };
                    super::$name(std::sync::Arc::new(db.store.clone())).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

conformance!(
    full_loop_with_relist,
    illegal_transitions_change_nothing,
    concurrent_reservations_never_exceed_capacity,
    rejecting_and_expiring_return_units,
    cancelling_a_demand_releases_its_matches,
    idempotent_writes_take_effect_once,
    concurrent_idempotent_requests_take_effect_once,
    every_state_change_writes_one_event_in_order,
    guards_refuse_own_offers_and_over_budget,
    withdrawn_offers_take_no_new_reservations,
    expiry_sweep_expires_due_matches_and_demands,
    listing_filters_and_pages,
    model_registry_versions_activates_and_rolls_back,
    review_sets_category_and_records_a_label,
    interactions_are_recorded_and_ranked,
    concurrent_transitions_do_not_exhaust_the_pool,
    concurrent_activations_leave_one_active,
    a_retrain_never_overwrites_a_rollback,
    pruning_keeps_the_active_and_the_previous_model,
    added_labels_are_kept_once,
    withdrawal_expires_proposals_with_its_own_events,
    missing_and_present_coordinates_alternate,
    jobs_record_how_long_work_ended,
    retention_prunes_by_age_never_ahead_of_consumers,
    bulk_inserts_write_rows_and_events_in_order,
    concurrent_writers_with_failures_and_cancellations_keep_every_acknowledged_write,
    a_fenced_off_holder_changes_nothing,
    each_job_period_runs_once_across_racing_nodes,
    heartbeats_list_live_nodes,
    keys_are_stored_hashed_listed_and_revoked,
    writes_record_the_acting_key_in_their_events,
    matches_filter_by_party_on_either_side,
    images_are_numbered_read_limited_and_deleted_with_events,
    synonym_lists_are_versioned_with_events,
    the_assistants_faq_questions_and_triples,
);

fn class(category: &str) -> Classification {
    Classification::given(category)
}

async fn demand(s: &S, requester: &str, quantity: i64) -> Demand {
    let input = DemandInput {
        requester: requester.into(),
        text: "想买一台二手自行车".into(),
        category: Some("bicycles".into()),
        budget: Some(50_000),
        location: Some(LocationInput { lat: 30.27, lon: 120.15 }),
        quantity: Some(quantity),
        ..Default::default()
    };
    let d = input.parse().unwrap();
    s.create_demand(&d, &class("bicycles"), None).await.unwrap().done().unwrap()
}

async fn offer(s: &S, provider: &str, capacity: i64) -> Offer {
    let input = OfferInput {
        provider: provider.into(),
        text: "九成新山地自行车".into(),
        category: "bicycles".into(),
        price: 30_000,
        capacity: Some(capacity),
        ..Default::default()
    };
    s.create_offer(&input.parse().unwrap(), None).await.unwrap().done().unwrap()
}

fn proposal(offer_id: i64, units: i64) -> NewMatch {
    NewMatch { offer_id, units, score: 0.5, features: FeatureScores::default(), ttl_ms: None }
}

async fn propose_one(s: &S, d: &Demand, o: &Offer, units: i64) -> Option<Match> {
    let p = s.propose_matches(d.id, &[proposal(o.id, units)], None).await.unwrap().done().unwrap();
    p.matches.into_iter().next()
}

async fn step(s: &S, m: &Match, t: MatchTransition) -> Result<Match, StoreError> {
    s.transition_match(m.id, t, None, None).await.map(|o| o.done().unwrap())
}

async fn full_loop_with_relist(s: S) {
    let d = demand(&s, "alice", 2).await;
    let o = offer(&s, "bob", 3).await;
    assert_eq!(d.status, DemandStatus::Open);
    let m = propose_one(&s, &d, &o, 2).await.expect("proposed");
    assert_eq!((m.status, m.units), (MatchStatus::Proposed, 2));
    assert_eq!(s.get_demand(d.id).await.unwrap().status, DemandStatus::Matched);
    assert_eq!(s.get_offer(o.id).await.unwrap().reserved, 2);

    let m = step(&s, &m, MatchTransition::Accept).await.unwrap();
    assert_eq!(m.status, MatchStatus::Accepted);
    let relist = RelistInput { quantity: Some(1), condition: Some("good".into()), ..Default::default() };
    let m = s
        .transition_match(m.id, MatchTransition::Fulfil, Some(&relist.parse().unwrap()), None)
        .await
        .unwrap()
        .done()
        .unwrap();
    assert_eq!(m.status, MatchStatus::Fulfilled);

    let d = s.get_demand(d.id).await.unwrap();
    assert_eq!((d.status, d.fulfilled_units, d.matched_units), (DemandStatus::Fulfilled, 2, 0));
    let o = s.get_offer(o.id).await.unwrap();
    assert_eq!((o.reserved, o.consumed, o.status), (0, 2, OfferStatus::Available));

    let relisted = s.get_offer(m.relisted_offer_id.expect("relisted")).await.unwrap();
    assert_eq!(relisted.provider, "alice");
    assert_eq!(relisted.capacity, 1);
    assert_eq!(relisted.condition.as_deref(), Some("good"));
    assert_eq!(relisted.origin_offer_id, Some(o.id));
    assert_eq!(relisted.origin_match_id, Some(m.id));
    assert_eq!(relisted.location, d.location);

    // Relisting more than was fulfilled is refused and changes nothing.
    let d2 = demand(&s, "carol", 1).await;
    let m2 = propose_one(&s, &d2, &o, 1).await.unwrap();
    step(&s, &m2, MatchTransition::Accept).await.unwrap();
    let too_many = RelistInput { quantity: Some(5), ..Default::default() }.parse().unwrap();
    let err = s.transition_match(m2.id, MatchTransition::Fulfil, Some(&too_many), None).await.unwrap_err();
    assert!(matches!(err, StoreError::RelistTooLarge { requested: 5, available: 1 }), "{err}");
    assert_eq!(s.get_match(m2.id).await.unwrap().status, MatchStatus::Accepted);
}

/// A snapshot of everything a transition could touch.
async fn snapshot(s: &S, m: &Match) -> (Match, Demand, Offer, i64) {
    let events = s.stats().await.unwrap().events;
    (
        s.get_match(m.id).await.unwrap(),
        s.get_demand(m.demand_id).await.unwrap(),
        s.get_offer(m.offer_id).await.unwrap(),
        events,
    )
}

async fn illegal_transitions_change_nothing(s: S) {
    use MatchTransition::*;
    let all = [Accept, Reject, Fulfil, Expire];
    // Drive one match into each reachable state, then try every transition on it.
    let paths: [&[MatchTransition]; 5] = [&[], &[Accept], &[Accept, Fulfil], &[Reject], &[Expire]];
    let o = offer(&s, "bob", 100).await;
    for path in paths {
        for t in all {
            let d = demand(&s, "alice", 1).await;
            let mut m = propose_one(&s, &d, &o, 1).await.unwrap();
            for p in path {
                m = step(&s, &m, *p).await.unwrap();
            }
            let before = snapshot(&s, &m).await;
            match step(&s, &m, t).await {
                Ok(after) => assert_eq!(Some(after.status), t.target(m.status), "{t:?} from {:?}", m.status),
                Err(StoreError::IllegalTransition { .. }) => {
                    assert_eq!(t.target(m.status), None, "{t:?} from {:?} was refused", m.status);
                    assert_eq!(snapshot(&s, &m).await, before, "a refused {t:?} changed state");
                }
                Err(e) => panic!("unexpected error {e}"),
            }
        }
    }
    assert!(matches!(s.get_match(999_999).await, Err(StoreError::NotFound { .. })));
}

async fn concurrent_reservations_never_exceed_capacity(s: S) {
    let o = offer(&s, "bob", 10).await;
    let mut demands = Vec::new();
    for i in 0..64 {
        demands.push(demand(&s, &format!("user{i}"), 1).await);
    }
    let tasks: Vec<_> = demands
        .into_iter()
        .map(|d| {
            let s = s.clone();
            tokio::spawn(async move {
                let p = s.propose_matches(d.id, &[proposal(o.id, 1)], None).await.unwrap().done().unwrap();
                p.matches.len()
            })
        })
        .collect();
    let mut granted = 0;
    for t in tasks {
        granted += t.await.unwrap();
    }
    assert_eq!(granted, 10);
    let o = s.get_offer(o.id).await.unwrap();
    assert_eq!((o.reserved, o.status), (10, OfferStatus::Exhausted));
    let live =
        s.list_matches(&MatchFilter { offer_id: Some(o.id), ..Default::default() }, Page::first(1000)).await.unwrap();
    assert_eq!(live.iter().map(|m| m.units).sum::<i64>(), 10);

    // Concurrent rejections and new reservations still never over-book.
    let mut tasks = Vec::new();
    for m in live.iter().take(5) {
        let (s, id) = (s.clone(), m.id);
        tasks.push(tokio::spawn(async move {
            s.transition_match(id, MatchTransition::Reject, None, None).await.unwrap();
            0
        }));
    }
    for i in 0..20 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let d = demand(&s, &format!("late{i}"), 1).await;
            let p = s.propose_matches(d.id, &[proposal(o.id, 1)], None).await.unwrap().done().unwrap();
            p.matches.len()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let o = s.get_offer(o.id).await.unwrap();
    assert!(o.reserved + o.consumed <= o.capacity, "{o:?}");
    let held: i64 = s
        .list_matches(&MatchFilter { offer_id: Some(o.id), ..Default::default() }, Page::first(1000))
        .await
        .unwrap()
        .iter()
        .filter(|m| m.status.holds_units())
        .map(|m| m.units)
        .sum();
    assert_eq!(held, o.reserved);
}

async fn rejecting_and_expiring_return_units(s: S) {
    let o = offer(&s, "bob", 2).await;
    let d1 = demand(&s, "a", 1).await;
    let d2 = demand(&s, "b", 1).await;
    let m1 = propose_one(&s, &d1, &o, 1).await.unwrap();
    let m2 = propose_one(&s, &d2, &o, 1).await.unwrap();
    assert_eq!(s.get_offer(o.id).await.unwrap().status, OfferStatus::Exhausted);
    let d3 = demand(&s, "c", 1).await;
    assert!(propose_one(&s, &d3, &o, 1).await.is_none(), "an exhausted offer granted units");

    step(&s, &m1, MatchTransition::Reject).await.unwrap();
    let after = s.get_offer(o.id).await.unwrap();
    assert_eq!((after.reserved, after.status), (1, OfferStatus::Available));
    assert_eq!(s.get_demand(d1.id).await.unwrap().status, DemandStatus::Open);

    let m2 = step(&s, &m2, MatchTransition::Accept).await.unwrap();
    step(&s, &m2, MatchTransition::Reject).await.unwrap();
    assert_eq!(s.get_offer(o.id).await.unwrap().reserved, 0);

    let m3 = propose_one(&s, &d3, &o, 1).await.unwrap();
    step(&s, &m3, MatchTransition::Expire).await.unwrap();
    let after = s.get_offer(o.id).await.unwrap();
    assert_eq!((after.reserved, after.consumed), (0, 0));
    assert_eq!(s.get_demand(d3.id).await.unwrap().matched_units, 0);
}

async fn cancelling_a_demand_releases_its_matches(s: S) {
    let o1 = offer(&s, "bob", 1).await;
    let o2 = offer(&s, "dan", 1).await;
    let d = demand(&s, "alice", 2).await;
    let p = s.propose_matches(d.id, &[proposal(o1.id, 1), proposal(o2.id, 1)], None).await.unwrap().done().unwrap();
    assert_eq!(p.matches.len(), 2);
    step(&s, &p.matches[0], MatchTransition::Accept).await.unwrap();
    let cancelled = s.cancel_demand(d.id, None).await.unwrap().done().unwrap();
    assert_eq!((cancelled.status, cancelled.matched_units), (DemandStatus::Cancelled, 0));
    for m in &p.matches {
        assert_eq!(s.get_match(m.id).await.unwrap().status, MatchStatus::Rejected);
    }
    assert_eq!(s.get_offer(o1.id).await.unwrap().reserved, 0);
    assert_eq!(s.get_offer(o2.id).await.unwrap().status, OfferStatus::Available);
    assert!(matches!(s.cancel_demand(d.id, None).await, Err(StoreError::IllegalTransition { .. })));
    assert!(matches!(
        s.propose_matches(d.id, &[proposal(o1.id, 1)], None).await,
        Err(StoreError::IllegalTransition { .. })
    ));
}

fn key(k: &str, fingerprint: &str) -> IdemKey {
    IdemKey { key: k.into(), fingerprint: fingerprint.into(), status: 201 }
}

async fn idempotent_writes_take_effect_once(s: S) {
    let input = DemandInput { requester: "alice".into(), text: "need a desk".into(), ..Default::default() };
    let d = input.parse().unwrap();
    let k = key("k-1", "fp-a");
    let first = s.create_demand(&d, &class("furniture"), Some(&k)).await.unwrap().done().unwrap();
    let again = s.create_demand(&d, &class("furniture"), Some(&k)).await.unwrap();
    let Outcome::Replayed(stored) = again else { panic!("not replayed") };
    assert_eq!(stored.status, 201);
    let replayed: Demand = serde_json::from_str(&stored.body).unwrap();
    assert_eq!(replayed, first);
    let all = s.list_demands(&DemandFilter::default(), Page::first(100)).await.unwrap();
    assert_eq!(all.len(), 1);
    let err = s.create_demand(&d, &class("furniture"), Some(&key("k-1", "fp-b"))).await.unwrap_err();
    assert!(matches!(err, StoreError::IdempotencyKeyReused(_)));

    // A failed request stores nothing: the same key can be used for the retry.
    let o = offer(&s, "bob", 1).await;
    let k2 = key("k-2", "fp-w");
    s.withdraw_offer(o.id, Some(&k2)).await.unwrap().done().unwrap();
    assert!(matches!(s.withdraw_offer(o.id, Some(&k2)).await.unwrap(), Outcome::Replayed(_)));
    assert!(matches!(s.withdraw_offer(o.id, None).await, Err(StoreError::IllegalTransition { .. })));
}

async fn concurrent_idempotent_requests_take_effect_once(s: S) {
    let o = offer(&s, "bob", 50).await;
    let d = demand(&s, "alice", 5).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                let k = key("same-key", "same-request");
                s.propose_matches(d.id, &[proposal(o.id, 1)], Some(&k)).await.unwrap()
            })
        })
        .collect();
    let mut fresh = 0;
    let mut bodies = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Outcome::Done(p) => {
                fresh += 1;
                bodies.push(serde_json::to_string(&p).unwrap());
            }
            Outcome::Replayed(r) => bodies.push(r.body),
        }
    }
    assert_eq!(fresh, 1);
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(s.get_offer(o.id).await.unwrap().reserved, 1);
}

async fn every_state_change_writes_one_event_in_order(s: S) {
    let kinds = async |s: &S, after: i64| -> Vec<String> {
        s.events_after(after, 1000).await.unwrap().into_iter().map(|e| e.kind).collect()
    };
    let d = demand(&s, "alice", 1).await;
    let o = offer(&s, "bob", 1).await;
    let m = propose_one(&s, &d, &o, 1).await.unwrap();
    let m = step(&s, &m, MatchTransition::Accept).await.unwrap();
    let relist = RelistInput::default().parse().unwrap();
    s.transition_match(m.id, MatchTransition::Fulfil, Some(&relist), None).await.unwrap();
    assert_eq!(
        kinds(&s, 0).await,
        ["demand.created", "offer.created", "match.proposed", "match.accepted", "offer.relisted", "match.fulfilled"]
    );
    let events = s.events_after(0, 1000).await.unwrap();
    assert!(events.windows(2).all(|w| w[0].id < w[1].id));
    // A proposal's event carries both sides as its transaction left them
    // (the index reads availability from it).
    assert_eq!(events[2].payload["offer"]["reserved"], 1);
    assert_eq!(events[2].payload["offer"]["status"], "exhausted");
    assert_eq!(events[2].payload["demand"]["matched_units"], 1);
    assert_eq!(events[2].payload["demand"]["status"], "matched");
    assert_eq!(events[3].payload["match"]["status"], "accepted");
    assert_eq!(events[5].payload["offer"]["consumed"], 1);
    // The cursor returns exactly what came after it.
    assert_eq!(kinds(&s, events[3].id).await, ["offer.relisted", "match.fulfilled"]);
    // A refused change writes nothing.
    let _ = step(&s, &m, MatchTransition::Accept).await.unwrap_err();
    assert_eq!(s.events_after(events[5].id, 10).await.unwrap().len(), 0);

    // Under concurrency every event is still readable by cursor exactly once.
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { offer(&s, &format!("p{i}"), 1).await.id })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let mut cursor = 0;
    let mut seen = 0;
    loop {
        let page = s.events_after(cursor, 7).await.unwrap();
        let Some(last) = page.last() else { break };
        cursor = last.id;
        seen += page.len();
    }
    assert_eq!(seen, 6 + 24);
}

async fn guards_refuse_own_offers_and_over_budget(s: S) {
    let d = demand(&s, "alice", 1).await; // budget 50_000
    let own = offer(&s, "alice", 1).await;
    let pricey = s
        .create_offer(
            &OfferInput {
                provider: "bob".into(),
                text: "carbon road bike".into(),
                category: "bicycles".into(),
                price: 90_000,
                ..Default::default()
            }
            .parse()
            .unwrap(),
            None,
        )
        .await
        .unwrap()
        .done()
        .unwrap();
    let p =
        s.propose_matches(d.id, &[proposal(own.id, 1), proposal(pricey.id, 1)], None).await.unwrap().done().unwrap();
    assert!(p.matches.is_empty());
    assert_eq!(p.skipped.len(), 2);
    let candidates = s.candidate_offers(&d).await.unwrap();
    assert!(candidates.iter().all(|o| o.id != own.id && o.id != pricey.id));
}

async fn withdrawn_offers_take_no_new_reservations(s: S) {
    let o = offer(&s, "bob", 3).await;
    let d1 = demand(&s, "a", 1).await;
    let m1 = propose_one(&s, &d1, &o, 1).await.unwrap();
    let d2 = demand(&s, "b", 1).await;
    let m2 = step(&s, &propose_one(&s, &d2, &o, 1).await.unwrap(), MatchTransition::Accept).await.unwrap();
    let w = s.withdraw_offer(o.id, None).await.unwrap().done().unwrap();
    assert_eq!(w.status, OfferStatus::Withdrawn);
    assert_eq!(s.get_match(m1.id).await.unwrap().status, MatchStatus::Expired);
    // An accepted match stays fulfillable; nothing new is reserved.
    step(&s, &m2, MatchTransition::Fulfil).await.unwrap();
    let d3 = demand(&s, "c", 1).await;
    assert!(propose_one(&s, &d3, &o, 1).await.is_none());
    assert_eq!(s.get_offer(o.id).await.unwrap().status, OfferStatus::Withdrawn);
}

async fn expiry_sweep_expires_due_matches_and_demands(s: S) {
    let o = offer(&s, "bob", 2).await;
    let d = demand(&s, "a", 1).await;
    let mut p = proposal(o.id, 1);
    p.ttl_ms = Some(1_000);
    let m = s.propose_matches(d.id, &[p], None).await.unwrap().done().unwrap().matches.remove(0);
    let expires = m.expires_at.unwrap();
    assert_eq!(s.expire_due(expires - 1).await.unwrap(), ExpirySummary::default());
    let summary = s.expire_due(expires).await.unwrap();
    assert_eq!(summary.matches_expired, 1);
    assert_eq!(s.get_match(m.id).await.unwrap().status, MatchStatus::Expired);
    assert_eq!(s.get_offer(o.id).await.unwrap().reserved, 0);

    let input = DemandInput {
        requester: "x".into(),
        text: "short-lived".into(),
        expires_in_hours: Some(1.0),
        ..Default::default()
    };
    let short = s.create_demand(&input.parse().unwrap(), &class("bicycles"), None).await.unwrap().done().unwrap();
    let m = propose_one(&s, &short, &o, 1).await.unwrap();
    let summary = s.expire_due(short.expires_at.unwrap()).await.unwrap();
    assert_eq!(summary.demands_expired, 1);
    assert_eq!(s.get_demand(short.id).await.unwrap().status, DemandStatus::Expired);
    assert_eq!(s.get_match(m.id).await.unwrap().status, MatchStatus::Expired);
    assert_eq!(s.get_offer(o.id).await.unwrap().reserved, 0);

    // More fell due than one page of the sweep: one sweep expires them all,
    // and none that is not due.
    let later = (0..1_070)
        .map(|i| {
            let d = DemandInput { expires_in_hours: Some(if i < 1_050 { 1.0 } else { 3.0 }), ..input.clone() };
            (d.parse().unwrap(), class("bicycles"))
        })
        .collect::<Vec<_>>();
    let later = s.create_demands(&later).await.unwrap();
    let at = later[0].expires_at.unwrap() + 60_000;
    assert_eq!(s.expire_due(at).await.unwrap().demands_expired, 1_050);
    assert_eq!(s.get_demand(later[1_049].id).await.unwrap().status, DemandStatus::Expired);
    assert_eq!(s.get_demand(later[1_050].id).await.unwrap().status, DemandStatus::Open);
}

async fn listing_filters_and_pages(s: S) {
    for i in 0..7 {
        demand(&s, if i % 2 == 0 { "even" } else { "odd" }, 1).await;
    }
    let filter = DemandFilter { requester: Some("even".into()), ..Default::default() };
    let first = s.list_demands(&filter, Page::first(3)).await.unwrap();
    assert_eq!(first.len(), 3);
    let rest = s.list_demands(&filter, Page { after: first[2].id, limit: 3 }).await.unwrap();
    let newest = s.newest_demands(&filter, 2).await.unwrap();
    assert_eq!(newest.iter().map(|d| d.id).collect::<Vec<_>>(), [rest[0].id, first[2].id]);
    assert_eq!(rest.len(), 1);
    assert!(first.iter().chain(&rest).all(|d| d.requester == "even"));
    let open = DemandFilter { status: Some(DemandStatus::Open), ..Default::default() };
    assert_eq!(s.list_demands(&open, Page::first(100)).await.unwrap().len(), 7);
    let cancelled = DemandFilter { status: Some(DemandStatus::Cancelled), ..Default::default() };
    assert!(s.list_demands(&cancelled, Page::first(100)).await.unwrap().is_empty());
    let stats = s.stats().await.unwrap();
    assert_eq!(stats.demands.get("open"), Some(&7));
}

fn new_model(kind: &str, accuracy: f64, blob: &[u8]) -> NewModel {
    NewModel {
        kind: kind.into(),
        data_hash: "abc123".into(),
        metrics: serde_json::json!({ "accuracy": accuracy }),
        params: serde_json::json!({ "epochs": 30 }),
        blob: blob.to_vec(),
    }
}

async fn model_registry_versions_activates_and_rolls_back(s: S) {
    assert_eq!(s.active_model("classifier").await.unwrap(), None);
    let v1 = s.register_model(&new_model("classifier", 0.8, b"first")).await.unwrap();
    let v2 = s.register_model(&new_model("classifier", 0.9, &[0, 255, 7])).await.unwrap();
    let other = s.register_model(&new_model("recommender", 0.3, b"x")).await.unwrap();
    assert_eq!((v1.version, v2.version, other.version), (1, 2, 1));
    assert_eq!((v2.bytes, v2.tag()), (3, "classifier v2".to_string()));
    assert!(!v1.active && !v2.active);
    assert_eq!(s.model_blob(v2.id).await.unwrap(), vec![0, 255, 7]);
    assert_eq!(s.get_model(v1.id).await.unwrap().metrics["accuracy"], 0.8);

    s.activate_model(v2.id, None).await.unwrap();
    s.activate_model(other.id, None).await.unwrap();
    assert_eq!(s.active_model("classifier").await.unwrap().unwrap().id, v2.id);
    // Rollback: activating the older version deactivates the newer one.
    s.activate_model(v1.id, None).await.unwrap();
    let classifiers = s.list_models(Some("classifier")).await.unwrap();
    let active: Vec<i64> = classifiers.iter().filter(|m| m.active).map(|m| m.version).collect();
    assert_eq!(active, [1]);
    assert_eq!(s.active_model("recommender").await.unwrap().unwrap().id, other.id);
    assert!(matches!(s.activate_model(9999, None).await, Err(StoreError::NotFound { .. })));
    let kinds: Vec<String> = s.events_after(0, 100).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "model.activated").count(), 3);

    // Concurrent registrations still get distinct versions.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.register_model(&new_model("ranker", 0.5, b"r")).await.unwrap().version })
        })
        .collect();
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap());
    }
    versions.sort();
    assert_eq!(versions, (1..=8).collect::<Vec<i64>>());
}

async fn review_sets_category_and_records_a_label(s: S) {
    let input =
        DemandInput { requester: "a".into(), text: "找人修一下漏水的水龙头".into(), ..Default::default() };
    let unsure = Classification {
        category: "tools".into(),
        source: wantloop_core::demand::CategorySource::Classified,
        confidence: 0.2,
        model: Some("classifier v1".into()),
        needs_review: true,
    };
    let d = s.create_demand(&input.parse().unwrap(), &unsure, None).await.unwrap().done().unwrap();
    assert!(d.needs_review);
    assert_eq!(d.category_model.as_deref(), Some("classifier v1"));
    let queue = DemandFilter { needs_review: Some(true), ..Default::default() };
    assert_eq!(s.list_demands(&queue, Page::first(10)).await.unwrap().len(), 1);

    let reviewed = s.review_demand(d.id, "home_services", None).await.unwrap().done().unwrap();
    assert_eq!((reviewed.category.as_str(), reviewed.needs_review), ("home_services", false));
    assert_eq!(reviewed.category_source, wantloop_core::demand::CategorySource::Operator);
    assert!(s.list_demands(&queue, Page::first(10)).await.unwrap().is_empty());
    let labels = s.labels_after(0, 10).await.unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!((labels[0].text.as_str(), labels[0].label.as_str()), ("找人修一下漏水的水龙头", "home_services"));
    assert_eq!(labels[0].demand_id, Some(d.id));
    assert!(s.labels_after(labels[0].id, 10).await.unwrap().is_empty());
    assert!(matches!(s.review_demand(12345, "tools", None).await, Err(StoreError::NotFound { .. })));
}

fn interaction(user: &str, offer_id: i64, kind: &str) -> wantloop_core::NewInteraction {
    wantloop_core::InteractionInput { user: user.into(), offer_id, kind: kind.into(), value: None }.parse("").unwrap()
}

async fn interactions_are_recorded_and_ranked(s: S) {
    let a = offer(&s, "p1", 1).await;
    let b = offer(&s, "p2", 1).await;
    let batch = [interaction("u1", a.id, "view"), interaction("u2", a.id, "click"), interaction("u1", b.id, "view")];
    let stored = s.record_interactions(&batch, None).await.unwrap().done().unwrap();
    assert_eq!(stored.len(), 3);
    // A batch naming an unknown offer stores nothing.
    let bad = [interaction("u3", a.id, "view"), interaction("u3", 9999, "view")];
    assert!(matches!(s.record_interactions(&bad, None).await, Err(StoreError::NotFound { entity: "offer", .. })));
    assert_eq!(s.interactions_after(0, 100).await.unwrap().len(), 3);
    assert_eq!(s.popular_offers(0, 10).await.unwrap(), vec![(a.id, 2), (b.id, 1)]);
    assert_eq!(s.popular_offers(i64::MAX, 10).await.unwrap(), vec![]);
    let u1: Vec<i64> = s.user_interactions("u1", 100).await.unwrap().iter().map(|i| i.offer_id).collect();
    assert_eq!(u1, [a.id, b.id]);
    // A bounded history keeps the newest.
    let newest: Vec<i64> = s.user_interactions("u1", 1).await.unwrap().iter().map(|i| i.offer_id).collect();
    assert_eq!(newest, [b.id]);

    // Accepting and fulfilling record feedback for the requester.
    let d = demand(&s, "alice", 1).await;
    let m = propose_one(&s, &d, &b, 1).await.unwrap();
    let m = step(&s, &m, MatchTransition::Accept).await.unwrap();
    step(&s, &m, MatchTransition::Fulfil).await.unwrap();
    let kinds: Vec<&str> = s.user_interactions("alice", 100).await.unwrap().iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(kinds, ["accept", "fulfil"]);
    let mut found: Vec<i64> = s.offers_by_ids(&[b.id, a.id, 777]).await.unwrap().iter().map(|o| o.id).collect();
    found.sort();
    assert_eq!(found, [a.id, b.id]);
}

async fn concurrent_transitions_do_not_exhaust_the_pool(s: S) {
    // More concurrent accepts than the pool has connections: each transition
    // must use only its own transaction's connection.
    let o = offer(&s, "bob", 48).await;
    let mut matches = Vec::new();
    for i in 0..48 {
        let d = demand(&s, &format!("u{i}"), 1).await;
        matches.push(propose_one(&s, &d, &o, 1).await.unwrap());
    }
    let tasks: Vec<_> = matches
        .into_iter()
        .map(|m| {
            let s = s.clone();
            tokio::spawn(async move { s.transition_match(m.id, MatchTransition::Accept, None, None).await })
        })
        .collect();
    for t in tasks {
        let accepted = t.await.unwrap().unwrap().done().unwrap();
        assert_eq!(accepted.status, MatchStatus::Accepted);
    }
    // A starved pool fails the accepts above (its acquire timeout is 10 s).
    let o = s.get_offer(o.id).await.unwrap();
    assert_eq!(o.reserved, 48);
}

async fn concurrent_activations_leave_one_active(s: S) {
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(s.register_model(&new_model("classifier", 0.5, &[i])).await.unwrap().id);
    }
    for _round in 0..3 {
        let tasks: Vec<_> = ids
            .iter()
            .map(|&id| {
                let s = s.clone();
                tokio::spawn(async move { s.activate_model(id, None).await.unwrap() })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let active = s.list_models(Some("classifier")).await.unwrap().into_iter().filter(|m| m.active).count();
        assert_eq!(active, 1);
    }
}

async fn a_retrain_never_overwrites_a_rollback(s: S) {
    let v1 = s.register_model(&new_model("classifier", 0.8, b"1")).await.unwrap();
    let v2 = s.register_model(&new_model("classifier", 0.9, b"2")).await.unwrap();
    s.activate_model(v2.id, None).await.unwrap();
    // A retrain starts while v2 is active; meanwhile the operator rolls back.
    s.activate_model(v1.id, None).await.unwrap();
    let v3 = s.register_model(&new_model("classifier", 0.95, b"3")).await.unwrap();
    let refused = s.activate_model_as(v3.id, &Activation::by_retrain(Some(v2.id))).await.unwrap();
    assert_eq!(refused, None);
    let active = s.active_model("classifier").await.unwrap().unwrap();
    assert_eq!((active.id, active.activated_by.as_deref()), (v1.id, Some("operator")));
    // Expecting the right model, it goes through and says who chose it.
    let done = s.activate_model_as(v3.id, &Activation::by_retrain(Some(v1.id))).await.unwrap().unwrap();
    assert_eq!((done.active, done.activated_by.as_deref()), (true, Some("retrain")));
    assert!(done.activated_at.is_some());
    // The first model of a kind expects none to be active.
    let r1 = s.register_model(&new_model("recommender", 0.1, b"r")).await.unwrap();
    assert!(s.activate_model_as(r1.id, &Activation::by_retrain(Some(v1.id))).await.unwrap().is_none());
    assert!(s.activate_model_as(r1.id, &Activation::by_retrain(None)).await.unwrap().is_some());
}

async fn pruning_keeps_the_active_and_the_previous_model(s: S) {
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(s.register_model(&new_model("classifier", 0.5, &[i])).await.unwrap().id);
    }
    let other = s.register_model(&new_model("recommender", 0.1, b"r")).await.unwrap();
    s.activate_model(ids[1], None).await.unwrap();
    // Activation times are in ms; the previous model is the one active last.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    s.activate_model(ids[2], None).await.unwrap();
    let mut deleted = s.prune_models("classifier", ModelRetention { keep_newest: 1 }).await.unwrap();
    deleted.sort();
    assert_eq!(deleted, [ids[0], ids[3], ids[4]]);
    let kept: Vec<i64> = s.list_models(Some("classifier")).await.unwrap().iter().map(|m| m.id).collect();
    assert_eq!(kept, [ids[1], ids[2], ids[5]]);
    assert_eq!(s.active_model("classifier").await.unwrap().unwrap().id, ids[2]);
    assert!(s.get_model(other.id).await.is_ok());
    // Nothing more to prune; keeping none still keeps active and previous.
    assert!(s.prune_models("classifier", ModelRetention { keep_newest: 1 }).await.unwrap().is_empty());
    assert_eq!(s.prune_models("classifier", ModelRetention { keep_newest: 0 }).await.unwrap(), [ids[5]]);
    let kept: Vec<i64> = s.list_models(Some("classifier")).await.unwrap().iter().map(|m| m.id).collect();
    assert_eq!(kept, [ids[1], ids[2]]);
}

async fn added_labels_are_kept_once(s: S) {
    assert_eq!(s.newest_label_id().await.unwrap(), 0);
    let label =
        |text: &str, label: &str| NewLabel { text: text.into(), label: label.into(), source: "base:demo".into() };
    let batch = [label("找个家教", "education"), label("修水管", "home_services"), label("修水管", "home_services")];
    assert_eq!(s.add_labels(&batch).await.unwrap(), 2);
    assert_eq!(s.add_labels(&batch[..2]).await.unwrap(), 0);
    // The same text with another label, or from another source, is another example.
    assert_eq!(s.add_labels(&[label("修水管", "tools")]).await.unwrap(), 1);
    let many: Vec<NewLabel> = (0..450).map(|i| label(&format!("example {i}"), "misc")).collect();
    assert_eq!(s.add_labels(&many).await.unwrap(), 450);
    let stored = s.labels_after(0, 1000).await.unwrap();
    assert_eq!(stored.len(), 453);
    assert_eq!(s.newest_label_id().await.unwrap(), stored.last().unwrap().id);
    assert!(stored.iter().all(|l| l.source == "base:demo" && l.demand_id.is_none()));
}

async fn withdrawal_expires_proposals_with_its_own_events(s: S) {
    let o = offer(&s, "bob", 3).await;
    let d1 = demand(&s, "a", 1).await;
    let d2 = demand(&s, "b", 1).await;
    propose_one(&s, &d1, &o, 1).await.unwrap();
    propose_one(&s, &d2, &o, 1).await.unwrap();
    let before = s.events_after(0, 1000).await.unwrap().last().unwrap().id;
    let w = s.withdraw_offer(o.id, None).await.unwrap().done().unwrap();
    assert_eq!((w.status, w.reserved), (OfferStatus::Withdrawn, 0));
    let kinds: Vec<String> = s.events_after(before, 100).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "match.expired").count(), 2);
    assert!(kinds.contains(&"offer.withdrawn".to_string()));
    for d in [d1, d2] {
        let filter = MatchFilter { demand_id: Some(d.id), ..Default::default() };
        let live = s.list_matches(&filter, Page::first(10)).await.unwrap();
        assert!(live.iter().all(|m| m.status == MatchStatus::Expired));
    }
}

async fn missing_and_present_coordinates_alternate(s: S) {
    // A statement first run with a missing coordinate must still take a
    // present one (and the other way round) on the same connection. The pool
    // hands connections out in turn, so an irregular pattern makes sure each
    // connection sees both.
    let mut bits: u32 = 0x9e37_79b9;
    for i in 0..48 {
        bits = bits.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let located = bits >> 31 == 1;
        let input = OfferInput {
            provider: format!("p{i}"),
            text: "bike".into(),
            category: "bicycles".into(),
            price: 100,
            location: located.then_some(LocationInput { lat: 30.0, lon: 120.0 }),
            ..Default::default()
        };
        let o = s.create_offer(&input.parse().unwrap(), None).await.unwrap().done().unwrap();
        assert_eq!(o.location.is_some(), located);
        let input = DemandInput {
            requester: format!("r{i}"),
            text: "bike".into(),
            location: located.then_some(LocationInput { lat: 30.0, lon: 120.0 }),
            max_distance_km: located.then_some(5.0),
            ..Default::default()
        };
        s.create_demand(&input.parse().unwrap(), &class("bicycles"), None).await.unwrap();
        let (kind, value) = if located { ("rate", Some(4.0)) } else { ("view", None) };
        let rating = wantloop_core::InteractionInput { user: "u".into(), offer_id: o.id, kind: kind.into(), value };
        s.record_interactions(&[rating.parse("").unwrap()], None).await.unwrap();
    }
}

async fn jobs_record_how_long_work_ended(s: S) {
    let started = s.create_job("allocate", Some(&key("job-1", "f"))).await.unwrap().done().unwrap();
    assert_eq!((started.status, started.kind.as_str()), (JobStatus::Running, "allocate"));
    // The same key names the same job.
    let again = s.create_job("allocate", Some(&key("job-1", "f"))).await.unwrap();
    assert!(matches!(&again, Outcome::Replayed(r) if r.body.contains(&format!("\"id\":{}", started.id))), "{again:?}");
    let done = s.finish_job(started.id, Ok(&serde_json::json!({"planned_units": 3}))).await.unwrap();
    assert_eq!((done.status, done.result.clone().unwrap()["planned_units"].as_i64()), (JobStatus::Succeeded, Some(3)));
    assert!(done.finished_at.is_some());
    // A finished job stays as it ended.
    assert!(s.finish_job(started.id, Err(&serde_json::json!({"status": 500}))).await.is_err());
    assert_eq!(s.get_job(started.id).await.unwrap(), done);
    let failed = s.create_job("retrain.classifier", None).await.unwrap().done().unwrap();
    let failed = s.finish_job(failed.id, Err(&serde_json::json!({"status": 422}))).await.unwrap();
    assert_eq!((failed.status, failed.error.unwrap()["status"].as_i64()), (JobStatus::Failed, Some(422)));
    assert!(matches!(s.get_job(9999).await, Err(StoreError::NotFound { entity: "job", .. })));
}

async fn retention_prunes_by_age_never_ahead_of_consumers(s: S) {
    let o = offer(&s, "bob", 5).await;
    for i in 0..3 {
        demand(&s, &format!("u{i}"), 1).await;
    }
    let events = s.events_after(0, 100).await.unwrap();
    assert_eq!(events.len(), 4);
    // A consumer that has read the first two events holds the rest back.
    s.record_consumer("search-index:node-a", events[1].id).await.unwrap();
    let later = wantloop_core::time::now_ms() + 60_000;
    let policy = RetentionPolicy { now: later, events: Some(1_000), consumer_ttl: 3_600_000, ..Default::default() };
    let report = s.prune(&policy).await.unwrap();
    assert_eq!(report.events, 2);
    assert_eq!(s.events_after(0, 100).await.unwrap().first().map(|e| e.id), Some(events[2].id));
    assert_eq!(s.events_pruned_through().await.unwrap(), events[1].id);
    // A consumer not seen within its ttl no longer holds events back.
    let stale = RetentionPolicy { consumer_ttl: 1, ..policy };
    assert_eq!(s.prune(&stale).await.unwrap().events, 2);
    assert_eq!(s.events_pruned_through().await.unwrap(), events[3].id);
    assert_eq!(s.last_event_id().await.unwrap(), events[3].id, "an empty outbox still knows its position");
    // Young events stay.
    demand(&s, "young", 1).await;
    let now = RetentionPolicy { now: wantloop_core::time::now_ms(), events: Some(3_600_000), ..stale };
    assert_eq!(s.prune(&now).await.unwrap().events, 0);

    // Idempotency keys: an old key is forgotten, so the same key writes anew.
    let input = || OfferInput {
        provider: "k".into(),
        text: "x".into(),
        category: "bicycles".into(),
        price: 1,
        ..Default::default()
    };
    let first = s.create_offer(&input().parse().unwrap(), Some(&key("old", "f"))).await.unwrap().done().unwrap();
    let keys = RetentionPolicy { now: later, idempotency_keys: Some(1_000), ..Default::default() };
    assert_eq!(s.prune(&keys).await.unwrap().idempotency_keys, 1);
    let again = s.create_offer(&input().parse().unwrap(), Some(&key("old", "f"))).await.unwrap().done().unwrap();
    assert_ne!(first.id, again.id);

    // Interactions: only those the recommender has trained on may go.
    let batch = [interaction("u", o.id, "view"), interaction("u", o.id, "click"), interaction("u", o.id, "view")];
    let stored = s.record_interactions(&batch, None).await.unwrap().done().unwrap();
    let untrained = RetentionPolicy { now: later, interactions: Some(1_000), ..Default::default() };
    assert_eq!(s.prune(&untrained).await.unwrap().interactions, 0, "no recommender: all kept");
    let trained = RetentionPolicy { interactions_trained_through: Some(stored[1].id), ..untrained };
    assert_eq!(s.prune(&trained).await.unwrap().interactions, 2);
    assert_eq!(s.interactions_after(0, 10).await.unwrap().len(), 1);

    // Jobs: finished ones go, running ones stay.
    let done = s.create_job("allocate", None).await.unwrap().done().unwrap();
    s.finish_job(done.id, Ok(&serde_json::json!({}))).await.unwrap();
    let running = s.create_job("allocate", None).await.unwrap().done().unwrap();
    let jobs = RetentionPolicy { now: later, finished_jobs: Some(1_000), ..Default::default() };
    assert_eq!(s.prune(&jobs).await.unwrap().jobs, 1);
    assert_eq!(s.get_job(running.id).await.unwrap().status, JobStatus::Running);
    // A job running far too long (its node died) is failed, so pollers get an answer.
    let orphans = RetentionPolicy { now: later, abandoned_jobs: Some(1_000), ..Default::default() };
    assert_eq!(s.prune(&orphans).await.unwrap().abandoned_jobs, 1);
    let abandoned = s.get_job(running.id).await.unwrap();
    assert_eq!(
        (abandoned.status, abandoned.error.unwrap()["type"].as_str()),
        (JobStatus::Failed, Some("/problems/abandoned"))
    );
}

async fn bulk_inserts_write_rows_and_events_in_order(s: S) {
    // More rows than one statement takes on either backend, with and without locations.
    let offers: Vec<wantloop_core::NewOffer> = (0..2_100)
        .map(|i| {
            OfferInput {
                provider: format!("p{i}"),
                text: format!("九成新自行车 {i}"),
                category: "bicycles".into(),
                price: 100 + i,
                location: (i % 3 != 0).then_some(LocationInput { lat: 30.0 + i as f64 / 1000.0, lon: 120.0 }),
                capacity: Some(1 + i % 4),
                ..Default::default()
            }
            .parse()
            .unwrap()
        })
        .collect();
    let created = s.create_offers(&offers).await.unwrap();
    assert_eq!(created.len(), offers.len());
    assert!(created.windows(2).all(|w| w[0].id < w[1].id), "ids follow the input order");
    for (o, n) in created.iter().zip(&offers) {
        assert_eq!(
            (o.provider.as_str(), o.price, o.capacity),
            (n.provider.as_str(), n.price.minor(), n.capacity.get())
        );
        assert_eq!(o.location, n.location, "{o:?}");
        assert_eq!(o.text, n.text.as_str());
        // What the insert answered is the row, to the last field.
        assert_eq!(&s.get_offer(o.id).await.unwrap(), o);
    }
    let demands: Vec<(wantloop_core::demand::NewDemand, Classification)> = (0..1_100)
        .map(|i| {
            let d = DemandInput {
                requester: format!("u{i}"),
                text: format!("想买自行车 {i}"),
                budget: (i % 2 == 0).then_some(1_000 + i),
                location: (i % 5 != 0).then_some(LocationInput { lat: 30.0, lon: 120.0 + i as f64 / 1000.0 }),
                max_distance_km: (i % 7 == 0 && i % 5 != 0).then_some(12.5),
                quantity: Some(1 + i % 3),
                priority: (i % 4 == 1).then(|| "urgent".into()),
                expires_in_hours: (i % 6 == 1).then_some(2.5),
                ..Default::default()
            }
            .parse()
            .unwrap();
            let class = match i % 3 {
                0 => class("bicycles"),
                // Classified, some sent for review, with a model's name and an odd confidence.
                _ => Classification {
                    category: "books".into(),
                    source: wantloop_core::demand::CategorySource::Classified,
                    confidence: 0.1 + i as f64 / 7_000.0,
                    model: Some(format!("classifier v{}", i % 5)),
                    needs_review: i % 3 == 2,
                },
            };
            (d, class)
        })
        .collect();
    let stored = s.create_demands(&demands).await.unwrap();
    assert_eq!(stored.len(), demands.len());
    for (d, (n, c)) in stored.iter().zip(&demands) {
        assert_eq!((d.requester.as_str(), d.category.as_str()), (n.requester.as_str(), c.category.as_str()));
        assert_eq!(
            (d.needs_review, d.priority, d.expires_at.is_some()),
            (c.needs_review, n.priority, n.expires_in_ms.is_some())
        );
        assert_eq!(
            (d.budget, d.location, d.max_distance_km, d.quantity),
            (n.budget.map(|b| b.minor()), n.location, n.max_distance_km, n.quantity.get())
        );
        assert_eq!(d.status, DemandStatus::Open);
        assert_eq!(&s.get_demand(d.id).await.unwrap(), d);
    }
    // One event per row, in row order, each carrying its row.
    let mut events = Vec::new();
    loop {
        let more = s.events_after(events.last().map_or(0, |e: &wantloop_core::Event| e.id), 1_000).await.unwrap();
        if more.is_empty() {
            break;
        }
        events.extend(more);
    }
    assert_eq!(events.len(), 2_100 + 1_100);
    assert!(events[..2_100].iter().zip(&created).all(|(e, o)| e.kind == "offer.created" && e.entity_id == o.id));
    assert!(events[2_100..].iter().zip(&stored).all(|(e, d)| e.kind == "demand.created" && e.entity_id == d.id));
    assert_eq!(events[2_101].payload["requester"], "u1");
    assert_eq!(events[2_101].payload["budget"], serde_json::Value::Null, "an odd row has no budget");
    for (e, d) in events[2_100..].iter().zip(&stored) {
        assert_eq!(e.payload, serde_json::to_value(d).unwrap(), "each event carries its row");
    }
    assert!(s.create_offers(&[]).await.unwrap().is_empty());
}

async fn concurrent_writers_with_failures_and_cancellations_keep_every_acknowledged_write(s: S) {
    // Writers that succeed, writers whose write is refused, and writers
    // abandoned mid-flight (anywhere from before their turn to during the
    // commit), all at once (on SQLite they share group commits).
    let d = demand(&s, "alice", 1).await;
    s.cancel_demand(d.id, None).await.unwrap();
    let tasks: Vec<_> = (0..240)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                match i % 3 {
                    0 => Some(offer(&s, &format!("w{i}"), 1).await.id),
                    // Refused: cancelling a cancelled demand changes nothing.
                    1 => {
                        assert!(s.cancel_demand(d.id, None).await.is_err());
                        None
                    }
                    // Abandoned: the future is dropped wherever it is.
                    _ => {
                        let input = OfferInput {
                            provider: format!("gone{i}"),
                            text: "被放弃的写入".into(),
                            category: "bicycles".into(),
                            price: 1,
                            ..Default::default()
                        };
                        let n = input.parse().unwrap();
                        let write = s.create_offer(&n, None);
                        match tokio::time::timeout(std::time::Duration::from_micros(37 * (i % 40)), write).await {
                            Ok(r) => r.unwrap().done().map(|o| o.id),
                            Err(_) => None,
                        }
                    }
                }
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    for t in tasks {
        acknowledged.extend(t.await.unwrap());
    }
    let all = s.all_offers(&OfferFilter::default()).await.unwrap();
    for id in &acknowledged {
        assert!(all.iter().any(|o| o.id == *id), "acknowledged offer {id} is missing");
    }
    assert!(acknowledged.len() >= 80, "every succeeding writer is acknowledged: {}", acknowledged.len());
    // Every stored offer has its event, and nothing else was written.
    let events = s.events_after(0, 1_000).await.unwrap();
    let created: Vec<i64> = events.iter().filter(|e| e.kind == "offer.created").map(|e| e.entity_id).collect();
    assert_eq!(created.len(), all.len());
    assert!(all.iter().all(|o| created.contains(&o.id)));
    assert_eq!(events.iter().filter(|e| e.kind == "demand.cancelled").count(), 1);
    // The store still takes writes afterwards, and answers them truthfully.
    for i in 0..20 {
        offer(&s, &format!("after{i}"), 1).await;
    }
}

fn fence(token: u64) -> Fence {
    Fence { lease: "wantloop.job.expiry".into(), token }
}

async fn a_fenced_off_holder_changes_nothing(s: S) {
    let o = offer(&s, "bob", 2).await;
    let d = demand(&s, "a", 1).await;
    let mut p = proposal(o.id, 1);
    p.ttl_ms = Some(1_000);
    let m = s.propose_matches(d.id, &[p], None).await.unwrap().done().unwrap().matches.remove(0);
    let due = m.expires_at.unwrap();
    assert_eq!(s.fence_token("wantloop.job.expiry").await.unwrap(), 0);
    // Holder 7 writes; then holder 9 takes over.
    let old = s.fenced(fence(7));
    assert!(old.claim_run("expiry", 1, "node-old").await.unwrap());
    let new = s.fenced(fence(9));
    assert!(new.claim_run("expiry", 2, "node-new").await.unwrap());
    assert_eq!(s.fence_token("wantloop.job.expiry").await.unwrap(), 9);
    let events = s.last_event_id().await.unwrap();
    // The old holder's late writes are refused, in the transaction that
    // would have changed something, and change nothing.
    match old.expire_due(due).await {
        Err(StoreError::Fenced { token: 7, highest: 9, .. }) => {}
        other => panic!("a late holder's sweep must be refused, got {other:?}"),
    }
    assert!(matches!(old.claim_run("expiry", 3, "node-old").await, Err(StoreError::Fenced { .. })));
    assert_eq!(s.get_match(m.id).await.unwrap().status, MatchStatus::Proposed);
    assert_eq!(s.last_event_id().await.unwrap(), events, "no event written");
    assert_eq!(s.job_runs("expiry", 0, 10).await.unwrap().len(), 2);
    // The current holder writes; a repeated token (a renewal) is accepted.
    assert_eq!(new.expire_due(due).await.unwrap().matches_expired, 1);
    assert_eq!(s.get_offer(o.id).await.unwrap().reserved, 0);
    assert!(new.claim_run("expiry", 3, "node-new").await.unwrap());
    // Another lease's fence is separate; unfenced writes are not checked.
    let other = s.fenced(Fence { lease: "wantloop.job.retention".into(), token: 1 });
    assert!(other.claim_run("retention", 1, "node-old").await.unwrap());
    demand(&s, "b", 1).await;
}

async fn each_job_period_runs_once_across_racing_nodes(s: S) {
    // Eight nodes race for each of five periods; a period runs once.
    let mut tasks = Vec::new();
    for node in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut won = Vec::new();
            for period in 100..105 {
                if s.claim_run("allocate", period, &format!("node-{node}")).await.unwrap() {
                    won.push(period);
                }
            }
            won
        }));
    }
    let mut won: Vec<i64> = Vec::new();
    for t in tasks {
        won.extend(t.await.unwrap());
    }
    won.sort_unstable();
    assert_eq!(won, vec![100, 101, 102, 103, 104]);
    let runs = s.job_runs("allocate", 0, 100).await.unwrap();
    assert_eq!(runs.iter().map(|r| r.period).collect::<Vec<_>>(), won);
    s.claim_run("expiry", 7, "node-1").await.unwrap();
    let latest = s.latest_runs().await.unwrap();
    assert_eq!(
        latest.iter().map(|r| (r.job.as_str(), r.period)).collect::<Vec<_>>(),
        [("allocate", 104), ("expiry", 7)]
    );
    // Retention removes runs older than the finished-job age.
    let later = wantloop_core::time::now_ms() + 10_000;
    let report = s
        .prune(&RetentionPolicy { now: later, finished_jobs: Some(1_000), consumer_ttl: 60_000, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(report.job_runs, 6);
    assert!(s.latest_runs().await.unwrap().is_empty());
}

async fn heartbeats_list_live_nodes(s: S) {
    let node = |id: &str| NodeInfo {
        id: id.into(),
        address: "127.0.0.1:8080".into(),
        version: "0.1.0".into(),
        started_at: 1,
        last_seen: 0,
        jobs: vec!["expiry".into()],
        models: Vec::new(),
    };
    let before = wantloop_core::time::now_ms();
    s.heartbeat(&node("b")).await.unwrap();
    s.heartbeat(&node("a")).await.unwrap();
    let jobs = vec!["expiry".to_string(), "allocate".to_string()];
    let models = vec!["text:all-minilm-l6-v2".to_string(), "image:efficientnet-lite0".to_string()];
    let updated =
        NodeInfo { address: "127.0.0.1:9090".into(), jobs: jobs.clone(), models: models.clone(), ..node("a") };
    s.heartbeat(&updated).await.unwrap();
    let live = s.nodes(before).await.unwrap();
    assert_eq!(live.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(live[0].address, "127.0.0.1:9090", "a heartbeat updates the node");
    assert_eq!(live[0].jobs, jobs, "and the jobs it runs");
    assert_eq!(live[1].jobs, ["expiry"]);
    assert_eq!((&live[0].models, live[1].models.is_empty()), (&models, true), "and the models it serves with");
    assert!(live.iter().all(|n| n.last_seen >= before && n.started_at == 1));
    let far = wantloop_core::time::now_ms() + 120_000;
    assert!(s.nodes(far).await.unwrap().is_empty(), "nodes not seen since are not listed");
    let report = s.prune(&RetentionPolicy { now: far, consumer_ttl: 60_000, ..Default::default() }).await.unwrap();
    assert_eq!(report.nodes, 2);
}

async fn keys_are_stored_hashed_listed_and_revoked(s: S) {
    use wantloop_core::{KeyInput, Role};
    assert!(!s.has_admin_key().await.unwrap());
    let input = |role: &str, party: Option<&str>| KeyInput {
        role: role.into(),
        party: party.map(Into::into),
        name: Some("ops".into()),
    };
    let (admin, admin_token) = s.create_key(&input("admin", None).parse().unwrap()).await.unwrap();
    let (user, user_token) = s.create_key(&input("user", Some("alice")).parse().unwrap()).await.unwrap();
    assert!(s.has_admin_key().await.unwrap());
    assert_eq!((admin.role, user.role, user.party.as_deref()), (Role::Admin, Role::User, Some("alice")));
    // What is stored is the secret's hash, never the secret.
    let token = keys::KeyToken::parse(&user_token).unwrap();
    assert_eq!(token.id, user.id);
    let (stored, hash) = s.key_with_hash(user.id).await.unwrap().unwrap();
    assert_eq!(stored, user);
    assert_eq!(hash, token.secret_hash());
    assert!(!user_token.contains(&hash));
    assert_ne!(keys::KeyToken::parse(&admin_token).unwrap().secret_hash(), hash);
    assert_eq!(s.list_keys().await.unwrap(), vec![admin.clone(), user.clone()]);
    // Revoking is recorded once; again changes nothing.
    let revoked = s.revoke_key(admin.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    let last = s.last_event_id().await.unwrap();
    assert_eq!(s.revoke_key(admin.id).await.unwrap(), revoked);
    assert_eq!(s.last_event_id().await.unwrap(), last);
    assert!(!s.has_admin_key().await.unwrap());
    assert!(matches!(s.revoke_key(9_999).await, Err(StoreError::NotFound { entity: "key", .. })));
    assert!(s.key_with_hash(9_999).await.unwrap().is_none());
    let kinds: Vec<String> = s.events_after(0, 100).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["key.created", "key.created", "key.revoked"]);
}

async fn writes_record_the_acting_key_in_their_events(s: S) {
    let d = actor::acting_as(Some(41), demand(&s, "alice", 1)).await;
    let o = offer(&s, "bob", 1).await;
    let job = actor::acting_as(Some(42), s.create_job("allocate", None)).await.unwrap().done().unwrap();
    assert_eq!(job.actor_key, Some(42));
    assert_eq!(s.get_job(job.id).await.unwrap().actor_key, Some(42));
    let events = s.events_after(0, 100).await.unwrap();
    let of = |entity: &str, id: i64| events.iter().find(|e| e.entity == entity && e.entity_id == id).unwrap().actor_key;
    assert_eq!(of("demand", d.id), Some(41));
    assert_eq!(of("offer", o.id), None, "a write outside a request names no key");
}

async fn matches_filter_by_party_on_either_side(s: S) {
    let (da, db_) = (demand(&s, "alice", 1).await, demand(&s, "carol", 1).await);
    let (ob, od) = (offer(&s, "bob", 5).await, offer(&s, "dave", 5).await);
    let m1 = propose_one(&s, &da, &ob, 1).await.unwrap();
    let m2 = propose_one(&s, &db_, &od, 1).await.unwrap();
    let ids = |party: &str| {
        let s = s.clone();
        let filter = MatchFilter { party: Some(party.to_string()), ..Default::default() };
        async move { s.list_matches(&filter, Page::first(100)).await.unwrap().into_iter().map(|m| m.id).collect::<Vec<_>>() }
    };
    assert_eq!(ids("alice").await, vec![m1.id]);
    assert_eq!(ids("bob").await, vec![m1.id]);
    assert_eq!(ids("dave").await, vec![m2.id]);
    assert!(ids("nobody").await.is_empty());
}

fn new_image(owner: ImageOwner, owner_id: i64, tag: u8) -> NewImage {
    NewImage {
        owner,
        owner_id,
        content_type: "image/png".into(),
        width: 4,
        height: 3,
        sha256: format!("{tag:064x}"),
        features: "test".into(),
        vector: vec![f32::from(tag), -1.5, 0.25],
        original: vec![tag; 40],
        thumbnail: vec![tag.wrapping_add(1); 10],
    }
}

async fn synonym_lists_are_versioned_with_events(s: S) {
    assert_eq!(s.current_synonyms().await.unwrap(), None);
    let before = s.last_event_id().await.unwrap();
    let first = s.save_synonyms("单车, 自行车\n", Some("ops")).await.unwrap();
    let second = s.save_synonyms("山地车 => 自行车\n", None).await.unwrap();
    assert!(second.version > first.version);
    assert_eq!((first.rules.as_str(), first.author.as_deref()), ("单车, 自行车\n", Some("ops")));
    assert_eq!(s.current_synonyms().await.unwrap(), Some(second.clone()));
    assert_eq!(s.synonym_versions(10).await.unwrap(), vec![second.clone(), first.clone()]);
    assert_eq!(s.synonym_versions(1).await.unwrap(), vec![second.clone()]);
    let events = s.events_after(before, 10).await.unwrap();
    let kinds: Vec<(&str, &str, i64)> =
        events.iter().map(|e| (e.kind.as_str(), e.entity.as_str(), e.entity_id)).collect();
    assert_eq!(
        kinds,
        vec![("synonyms.changed", "synonyms", first.version), ("synonyms.changed", "synonyms", second.version)]
    );
    assert_eq!(
        serde_json::from_value::<SynonymList>(events[1].payload.clone()).unwrap(),
        second,
        "the event carries the list"
    );
}

async fn the_assistants_faq_questions_and_triples(s: S) {
    let entry = |key: &str, lang: &str, answer: &str| NewFaqEntry {
        key: key.into(),
        lang: lang.into(),
        questions: vec!["怎么发布需求？".into(), "如何发需求".into()],
        answer: answer.into(),
    };
    let before = s.last_event_id().await.unwrap();
    let saved = s.save_faq_entries(&[entry("post", "zh", "a"), entry("post", "en", "b")]).await.unwrap();
    assert_eq!(saved.len(), 2);
    assert_eq!(saved[0].questions, vec!["怎么发布需求？", "如何发需求"]);
    // The same key and language replaces the entry, keeping its id.
    let replaced = s.save_faq_entries(&[entry("post", "zh", "c")]).await.unwrap();
    assert_eq!((replaced[0].id, replaced[0].answer.as_str()), (saved[0].id, "c"));
    assert_eq!(s.faq_entries(0, 10).await.unwrap().len(), 2);
    assert_eq!(s.faq_entries(saved[0].id, 10).await.unwrap(), vec![saved[1].clone()]);
    assert_eq!(s.faq_entry(saved[1].id).await.unwrap(), Some(saved[1].clone()));
    assert!(s.delete_faq_entry(saved[1].id).await.unwrap());
    assert!(!s.delete_faq_entry(saved[1].id).await.unwrap());
    assert_eq!(s.faq_entry(saved[1].id).await.unwrap(), None);
    // One event a save or deletion; none for a deletion of nothing.
    let kinds: Vec<String> = s.events_after(before, 10).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["faq.changed", "faq.changed", "faq.changed"]);
    assert_eq!(s.last_event_id_of(&["faq.changed"]).await.unwrap(), s.last_event_id().await.unwrap());

    // Kept questions: open until the operator answers.
    let ask = |q: &str| NewAskedQuestion {
        question: q.into(),
        lang: "zh".into(),
        outcome: "refused".into(),
        confidence: 0.1,
        best_entry: Some(saved[0].id),
    };
    let a = s.log_question(&ask("天气怎么样")).await.unwrap();
    let b = s.log_question(&ask("怎么发需求呀")).await.unwrap();
    assert_eq!(s.asked_questions(false, 0, 10).await.unwrap(), vec![a.clone(), b.clone()]);
    let rule = PhrasingRule { max_phrasings: 20, max_chars: 300 };
    let before = s.faq_entry(saved[0].id).await.unwrap().unwrap();
    let changes = s.last_event_id_of(&["faq.changed"]).await.unwrap();
    let answer = s.resolve_question(b.id, Some(saved[0].id), Some(rule)).await.unwrap().unwrap();
    assert!(answer.phrasing_added);
    let resolved = answer.question;
    assert_eq!(resolved.chosen_entry, Some(saved[0].id));
    assert!(resolved.resolved_at.is_some());
    let after = s.faq_entry(saved[0].id).await.unwrap().unwrap();
    assert_eq!(after.questions.len(), before.questions.len() + 1);
    assert_eq!(after.questions.last().map(String::as_str), Some("怎么发需求呀"));
    assert!(s.last_event_id_of(&["faq.changed"]).await.unwrap() > changes, "every node reloads the grown entry");
    // Answered again: the phrasing is not added twice.
    let again = s.resolve_question(b.id, Some(saved[0].id), Some(rule)).await.unwrap().unwrap();
    assert!(!again.phrasing_added);
    assert_eq!(s.faq_entry(saved[0].id).await.unwrap().unwrap().questions, after.questions);
    // Not grown: when full, too long, in another language, or without the rule.
    let c = s.log_question(&ask("发需求要钱吗")).await.unwrap();
    let full = PhrasingRule { max_phrasings: after.questions.len(), max_chars: 300 };
    let short = PhrasingRule { max_phrasings: 20, max_chars: 3 };
    for rule in [Some(full), Some(short), None] {
        assert!(!s.resolve_question(c.id, Some(saved[0].id), rule).await.unwrap().unwrap().phrasing_added);
    }
    let d = s.log_question(&NewAskedQuestion { lang: "en".into(), ..ask("how do I post") }).await.unwrap();
    assert!(!s.resolve_question(d.id, Some(saved[0].id), Some(rule)).await.unwrap().unwrap().phrasing_added);
    assert_eq!(s.faq_entry(saved[0].id).await.unwrap().unwrap().questions, after.questions);
    assert_eq!(s.resolve_question(999_999, Some(saved[0].id), Some(rule)).await.unwrap(), None);
    // A corrected answer moves the phrasing to the entry now chosen.
    let cancel = s.save_faq_entries(&[entry("cancel", "zh", "x")]).await.unwrap().remove(0);
    let e = s.log_question(&ask("需求不要了怎么办")).await.unwrap();
    assert!(s.resolve_question(e.id, Some(saved[0].id), Some(rule)).await.unwrap().unwrap().phrasing_added);
    assert!(s.resolve_question(e.id, Some(cancel.id), Some(rule)).await.unwrap().unwrap().phrasing_added);
    assert_eq!(s.faq_entry(saved[0].id).await.unwrap().unwrap().questions, after.questions);
    assert_eq!(s.faq_entry(cancel.id).await.unwrap().unwrap().questions.last().unwrap(), "需求不要了怎么办");
    // No entry answers it: the phrasing leaves the entry chosen before.
    let h = s.log_question(&ask("需求能改吗")).await.unwrap();
    assert!(s.resolve_question(h.id, Some(cancel.id), Some(rule)).await.unwrap().unwrap().phrasing_added);
    let none = s.resolve_question(h.id, None, Some(rule)).await.unwrap().unwrap();
    assert_eq!((none.question.chosen_entry, none.phrasing_added), (None, false));
    assert!(none.question.resolved_at.is_some());
    assert!(!s.faq_entry(cancel.id).await.unwrap().unwrap().questions.contains(&"需求能改吗".to_string()));
    // Two answers at once growing one entry: both phrasings land.
    let (f, g) =
        (s.log_question(&ask("发需求在哪里")).await.unwrap(), s.log_question(&ask("需求去哪发")).await.unwrap());
    let (x, y) = tokio::join!(
        s.resolve_question(f.id, Some(cancel.id), Some(rule)),
        s.resolve_question(g.id, Some(cancel.id), Some(rule))
    );
    assert!(x.unwrap().unwrap().phrasing_added && y.unwrap().unwrap().phrasing_added);
    let grown = s.faq_entry(cancel.id).await.unwrap().unwrap().questions;
    assert!(grown.contains(&"发需求在哪里".to_string()) && grown.contains(&"需求去哪发".to_string()), "{grown:?}");
    assert_eq!(s.asked_questions(false, 0, 10).await.unwrap(), vec![a.clone()]);
    let answered = s.asked_questions(true, 0, 10).await.unwrap();
    assert_eq!(answered.iter().map(|q| q.id).collect::<Vec<_>>(), [b.id, c.id, d.id, e.id, h.id, f.id, g.id]);
    assert_eq!(answered[0].chosen_entry, resolved.chosen_entry);
    assert_eq!(s.count_answered_questions().await.unwrap(), answered.len() as u64);
    // Retention drops old open questions, never answered ones (training pairs).
    let later = a.created_at + 10_000;
    let policy = RetentionPolicy { now: later, open_questions: Some(1_000), ..Default::default() };
    assert_eq!(s.prune(&policy).await.unwrap().open_questions, 1);
    assert!(s.asked_questions(false, 0, 10).await.unwrap().is_empty());
    assert_eq!(s.asked_questions(true, 0, 10).await.unwrap(), answered);

    // Triples: stored once, with one event per import that added any.
    let t = |o: &str| Triple { subject: "wantloop".into(), relation: "license".into(), object: o.into() };
    assert_eq!(s.save_triples(&[t("Apache-2.0"), t("Apache-2.0"), t("MIT")]).await.unwrap(), 2);
    let mark = s.last_event_id().await.unwrap();
    assert_eq!(s.save_triples(&[t("MIT")]).await.unwrap(), 0);
    assert_eq!(s.last_event_id().await.unwrap(), mark, "nothing new, no event");
    assert_eq!(s.triples(10).await.unwrap(), vec![t("Apache-2.0"), t("MIT")]);
}

async fn images_are_numbered_read_limited_and_deleted_with_events(s: S) {
    let o = offer(&s, "alice", 1).await;
    let d = demand(&s, "bob", 1).await;
    let before = s.last_event_id().await.unwrap();
    let first = s.add_image(&new_image(ImageOwner::Offer, o.id, 1), 2).await.unwrap();
    let second = s.add_image(&new_image(ImageOwner::Offer, o.id, 2), 2).await.unwrap();
    assert_eq!((first.position, second.position), (1, 2));
    assert_eq!((first.width, first.height, first.size), (4, 3, 40));
    // The limit holds, and a refused image leaves nothing behind.
    let e = s.add_image(&new_image(ImageOwner::Offer, o.id, 3), 2).await.unwrap_err();
    assert!(matches!(e, StoreError::TooManyImages { limit: 2, .. }), "{e}");
    let e = s.add_image(&new_image(ImageOwner::Offer, 999_999, 3), 2).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { entity: "offer", .. }), "{e}");
    let on_demand = s.add_image(&new_image(ImageOwner::Demand, d.id, 7), 2).await.unwrap();
    assert_eq!(on_demand.position, 1, "positions are per owner");
    assert_eq!(s.images_of(ImageOwner::Offer, o.id).await.unwrap(), vec![first.clone(), second.clone()]);

    let (info, bytes) = s.image_bytes(ImageOwner::Offer, o.id, 2, false).await.unwrap();
    assert_eq!((info, bytes), (second.clone(), vec![2u8; 40]));
    let (_, thumb) = s.image_bytes(ImageOwner::Offer, o.id, 2, true).await.unwrap();
    assert_eq!(thumb, vec![3u8; 10]);
    assert!(matches!(s.image_bytes(ImageOwner::Offer, o.id, 9, false).await, Err(StoreError::NotFound { .. })));

    let vectors = s.image_vectors_after(0, 10).await.unwrap();
    assert_eq!(vectors.iter().map(|v| v.info.id).collect::<Vec<_>>(), vec![first.id, second.id, on_demand.id]);
    assert_eq!(vectors[1].vector, vec![2.0, -1.5, 0.25], "vectors round-trip exactly");
    assert_eq!(s.image_vectors_after(first.id, 1).await.unwrap()[0].info.id, second.id);
    let of_demands = s.image_vectors_of(ImageOwner::Demand, &[d.id, 999_999]).await.unwrap();
    assert_eq!(of_demands.iter().map(|v| v.info.id).collect::<Vec<_>>(), vec![on_demand.id]);
    assert_eq!(of_demands[0].vector, vec![7.0, -1.5, 0.25]);
    assert!(s.image_vectors_of(ImageOwner::Offer, &[]).await.unwrap().is_empty());

    // Deleting frees a place; positions are not reused while taken.
    let gone = s.delete_image(ImageOwner::Offer, o.id, 1).await.unwrap();
    assert_eq!(gone, first);
    let third = s.add_image(&new_image(ImageOwner::Offer, o.id, 4), 2).await.unwrap();
    assert_eq!(third.position, 3);
    assert!(matches!(s.delete_image(ImageOwner::Offer, o.id, 1).await, Err(StoreError::NotFound { .. })));

    // Re-vectorised: the new features and vector, everything else kept.
    let revectored = s.set_image_vector(second.id, "other features", &[0.5, 0.5]).await.unwrap();
    assert_eq!(revectored, ImageInfo { features: "other features".into(), ..second.clone() });
    let now = s.image_vectors_of(ImageOwner::Offer, &[o.id]).await.unwrap();
    assert_eq!((now[0].info.features.as_str(), now[0].vector.clone()), ("other features", vec![0.5, 0.5]));
    let e = s.set_image_vector(first.id, "x", &[1.0]).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { entity: "image", .. }), "{e}");

    let events = s.events_after(before, 100).await.unwrap();
    let kinds: Vec<(&str, i64)> = events.iter().map(|e| (e.kind.as_str(), e.entity_id)).collect();
    assert_eq!(
        kinds,
        vec![
            ("image.added", first.id),
            ("image.added", second.id),
            ("image.added", on_demand.id),
            ("image.deleted", first.id),
            ("image.added", third.id),
            ("image.revectored", second.id)
        ]
    );
    assert_eq!(events[0].entity, "image");
}
