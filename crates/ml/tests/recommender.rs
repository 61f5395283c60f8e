//! Recommender models on small made-up interaction data: they learn
//! co-occurrence, round-trip through bytes, are deterministic, and EASE's
//! closed form matches a direct computation.

use wantloop_ml::recommender::{self, AlsParams, Params, Recommender, Rp3Params};

/// Two taste groups: users 0–9 like items a0–a4, users 10–19 like b0–b4;
/// every user misses one item of their group.
fn two_groups() -> recommender::Interactions {
    let mut pairs = Vec::new();
    for u in 0..20 {
        let group = if u < 10 { "a" } else { "b" };
        for i in 0..5 {
            if i != u % 5 {
                pairs.push((format!("u{u}"), format!("{group}{i}")));
            }
        }
    }
    recommender::from_pairs(&pairs)
}

fn all_params() -> Vec<Params> {
    vec![
        Params::Ease { lambda: 1.0, dropout: 0.0 },
        Params::Ease { lambda: 1.0, dropout: 0.3 },
        Params::ItemKnn { neighbours: 10 },
        Params::Rp3(Rp3Params { alpha: 0.8, beta: 0.3, neighbours: 10 }),
        Params::Als(AlsParams { factors: 4, reg: 0.1, alpha: 5.0, iterations: 10, seed: 7 }),
        Params::Popularity,
        Params::Hybrid {
            lambda: 1.0,
            dropout: 0.2,
            als: AlsParams { factors: 4, reg: 0.1, alpha: 5.0, iterations: 10, seed: 7 },
            weight: 0.5,
        },
    ]
}

#[test]
fn every_model_recommends_the_missing_item_of_the_users_group() {
    let x = two_groups();
    for params in all_params().into_iter().filter(|p| *p != Params::Popularity) {
        let model = Recommender::fit(&x, &params).unwrap();
        let mut scores = Vec::new();
        for u in [0usize, 13] {
            let seen = &x.by_user[u];
            model.scores(seen, Some(u as u32), &mut scores);
            let top = model.top_k(&scores, 1, |i| seen.binary_search(&i).is_ok());
            let group = if u < 10 { 'a' } else { 'b' };
            let name = &x.items[top[0].0 as usize];
            assert!(name.starts_with(group), "{params:?} recommended {name} to u{u}");
            assert_eq!(name, &format!("{group}{}", u % 5), "{params:?}");
        }
    }
}

#[test]
fn models_round_trip_through_bytes_and_are_deterministic() {
    let x = two_groups();
    for params in all_params() {
        let a = Recommender::fit(&x, &params).unwrap();
        let b = Recommender::fit(&x, &params).unwrap();
        assert_eq!(a, b, "{params:?} is not deterministic");
        let back = Recommender::from_bytes(&a.to_bytes()).unwrap();
        assert_eq!(back, a, "{params:?} did not round-trip");
    }
    assert!(Recommender::from_bytes(b"WLREC1\n{}\n").is_err());
    let mut cut = Recommender::fit(&x, &Params::Ease { lambda: 1.0, dropout: 0.0 }).unwrap().to_bytes();
    cut.truncate(cut.len() - 4);
    assert!(Recommender::from_bytes(&cut).is_err());
}

#[test]
fn ease_matches_the_closed_form_on_a_tiny_case() {
    // Users: {0,1}, {0,1,2}, {1,2}. G = [[2,2,1],[2,3,2],[1,2,2]], λ = 1.
    let pairs: Vec<(String, String)> =
        [("a", "0"), ("a", "1"), ("b", "0"), ("b", "1"), ("b", "2"), ("c", "1"), ("c", "2")]
            .iter()
            .map(|(u, i)| (u.to_string(), i.to_string()))
            .collect();
    let x = recommender::from_pairs(&pairs);
    let model = Recommender::fit(&x, &Params::Ease { lambda: 1.0, dropout: 0.0 }).unwrap();
    // P = (G + I)^-1 for G + I = [[3,2,1],[2,4,2],[1,2,3]]: det = 3·8 − 2·4 + 1·0 = 16.
    let p = [[8.0, -4.0, 0.0], [-4.0, 8.0, -4.0], [0.0, -4.0, 8.0]].map(|r| r.map(|v: f64| v / 16.0));
    let mut scores = Vec::new();
    for i in 0..3u32 {
        model.scores(&[i], None, &mut scores);
        for j in 0..3usize {
            let want = if i as usize == j { 0.0 } else { -p[i as usize][j] / p[j][j] };
            assert!((f64::from(scores[j]) - want).abs() < 1e-6, "B[{i}][{j}] = {} ≠ {want}", scores[j]);
        }
    }
}

#[test]
fn tuning_uses_only_training_data_and_picks_from_the_grid() {
    let x = two_groups();
    let (params, report, _) = recommender::tune("ease", &x, 3, 1).unwrap();
    assert!(matches!(params, Params::Ease { .. }));
    assert!(report.ndcg > 0.5, "{report:?}");
    let (fit, validation) = recommender::split_validation(&x, 0.2, 1);
    for (u, held) in validation.iter().enumerate() {
        for i in held {
            assert!(x.by_user[u].contains(i) && !fit.by_user[u].contains(i));
        }
    }
}

/// Two taste groups over many items, with fewer users than items: the shape
/// where EASE takes its dual form.
fn wide_two_groups() -> recommender::Interactions {
    let mut pairs = Vec::new();
    for u in 0..8 {
        let group = if u < 4 { "a" } else { "b" };
        for i in 0..12 {
            if i % 4 != u % 4 {
                pairs.push((format!("u{u}"), format!("{group}{i}")));
            }
        }
    }
    recommender::from_pairs(&pairs)
}

#[test]
fn wide_data_uses_the_dual_form_which_round_trips_and_ranks_like_the_groups() {
    let x = wide_two_groups();
    assert!(x.n_users() < x.n_items());
    assert_eq!(recommender::ease_layout(x.n_users(), x.n_items()), Some(recommender::EaseLayout::Dual));
    for params in [
        Params::Ease { lambda: 1.0, dropout: 0.2 },
        Params::Hybrid {
            lambda: 1.0,
            dropout: 0.0,
            als: AlsParams { factors: 4, reg: 0.1, alpha: 5.0, iterations: 10, seed: 7 },
            weight: 0.3,
        },
    ] {
        let model = Recommender::fit(&x, &params).unwrap();
        let back = Recommender::from_bytes(&model.to_bytes()).unwrap();
        assert_eq!(back, model, "{params:?} did not round-trip");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        model.scores(&x.by_user[5], Some(5), &mut a);
        back.scores(&x.by_user[5], Some(5), &mut b);
        assert_eq!(a, b);
        let top = model.top_k(&a, 3, |i| x.by_user[5].binary_search(&i).is_ok());
        assert!(top.iter().all(|(i, _)| x.items[*i as usize].starts_with('b')), "{params:?}: {top:?}");
    }
}

#[test]
fn newcomers_and_changed_histories_are_scored_from_their_history() {
    let x = two_groups();
    let als = Params::Als(AlsParams { factors: 4, reg: 0.1, alpha: 5.0, iterations: 10, seed: 7 });
    for params in [als.clone(), Params::Ease { lambda: 1.0, dropout: 0.0 }] {
        let model = Recommender::fit(&x, &params).unwrap();
        let mut scores = Vec::new();
        // Someone the model never saw, with three b items: the missing b items
        // rank first, not the popularity list.
        let history: Vec<u32> = ["b0", "b1", "b2"].iter().map(|i| model.item_index(i).unwrap()).collect();
        let mut history = history;
        history.sort_unstable();
        model.scores(&history, None, &mut scores);
        let top = model.top_k(&scores, 2, |i| history.binary_search(&i).is_ok());
        let names: Vec<&str> = top.iter().map(|(i, _)| model.items()[*i as usize].as_str()).collect();
        assert!(names.iter().all(|n| ["b3", "b4"].contains(n)), "{params:?}: {names:?}");
        // A training user of group a who since took three b items is scored
        // from the new history, not from the factors learnt before.
        let u = 0u32;
        let mut changed = x.by_user[u as usize].clone();
        changed.extend(["b0", "b1", "b2", "b3"].iter().map(|i| model.item_index(i).unwrap()));
        changed.sort_unstable();
        let mut before = Vec::new();
        model.scores(&x.by_user[u as usize], Some(u), &mut before);
        model.scores(&changed, Some(u), &mut scores);
        let b4 = model.item_index("b4").unwrap() as usize;
        assert!(scores[b4] > before[b4], "{params:?}: b4 {} -> {}", before[b4], scores[b4]);
    }
}

#[test]
fn selection_compares_families_on_validation_within_the_budget() {
    let x = two_groups();
    let s = recommender::select("auto", &x, 3, 1, 60.0).unwrap();
    // The choice is the best on validation: by the mean over the splits the
    // finalists were all scored on (the main split and the extra ones).
    let chosen = s.trials.iter().find(|t| t.params == s.params).expect("the choice is a trial");
    let m = chosen.extra_splits.len();
    let mean = |t: &recommender::Trial| (t.ndcg + t.extra_splits[..m].iter().sum::<f64>()) / (1 + m) as f64;
    for t in s.trials.iter().filter(|t| t.extra_splits.len() >= m) {
        assert!(mean(chosen) >= mean(t), "{:?} beat the choice {:?} on validation", t.params, s.params);
    }
    assert!(s.trials.iter().filter(|t| !t.extra_splits.is_empty()).count() >= 2, "finalists get extra splits");
    for family in ["popularity", "itemknn", "rp3beta", "ease", "als", "hybrid"] {
        assert!(s.trials.iter().any(|t| t.params.name() == family), "{family} not tried");
    }
    assert!(s.reason.starts_with(s.params.name()), "{}", s.reason);
    // With no time to spend, only popularity is tried and the rest are skipped with a reason.
    let s = recommender::select("auto", &x, 3, 1, 0.0).unwrap();
    assert_eq!(s.params, Params::Popularity);
    assert_eq!(s.skipped.len(), 5, "{:?}", s.skipped);
    assert!(s.skipped.iter().all(|(_, why)| why.contains("budget") || why.contains("needs")), "{:?}", s.skipped);
    // A family asked for by name is tried even over budget.
    let s = recommender::select("rp3beta", &x, 3, 1, 0.0).unwrap();
    assert_eq!(s.params.name(), "rp3beta");
    assert!(recommender::select("bogus", &x, 3, 1, 1.0).is_err());
}

#[test]
fn models_saved_before_fingerprints_still_load() {
    // A WLREC1 file (no fingerprints, no layout): an item-kNN model with one
    // neighbour list per item.
    let header = serde_json::json!({
        "params": {"model": "itemknn", "neighbours": 1}, "users": ["u0"], "items": ["a", "b"],
        "floats": 3, "ints": 3,
    });
    let mut bytes = b"WLREC1\n".to_vec();
    bytes.extend(header.to_string().as_bytes());
    bytes.push(b'\n');
    for f in [2.0f32, 1.0, 0.5] {
        bytes.extend(f.to_le_bytes());
    }
    for i in [1u32, 1, 0] {
        bytes.extend(i.to_le_bytes());
    }
    let model = Recommender::from_bytes(&bytes).unwrap();
    let mut scores = Vec::new();
    model.scores(&[0], Some(0), &mut scores);
    assert_eq!(scores, vec![0.0, 0.5], "item a's one neighbour is b, weight 0.5");
}
