//! Recommender models on small made-up interaction data: they learn
//! co-occurrence, round-trip through bytes, are deterministic, and EASE's
//! closed form matches a direct computation.

use wantloop_ml::recommender::{self, AlsParams, Params, Recommender};

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
