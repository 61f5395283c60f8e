//! The HNSW index against exact search, with and without a filter applied
//! inside the graph search.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wantloop_image::ann::{Index, Params, exact};
use wantloop_image::features::normalise;

/// Unit vectors in 24 clusters, so neighbours are meaningful.
fn vectors(n: usize, dim: usize) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(11);
    let centres: Vec<Vec<f32>> = (0..24).map(|_| (0..dim).map(|_| rng.random_range(-1.0..1.0)).collect()).collect();
    (0..n)
        .map(|i| {
            let mut v: Vec<f32> = centres[i % 24].iter().map(|c| c + rng.random_range(-0.6..0.6)).collect();
            normalise(&mut v);
            v
        })
        .collect()
}

fn recall(index: &Index, data: &[Vec<f32>], keep: Option<&dyn Fn(usize) -> bool>) -> f64 {
    let mut found = 0usize;
    let mut wanted = 0usize;
    for q in data.iter().step_by(7) {
        let truth = exact(data, q, 10, keep);
        let hits = index.search(q, 10, keep);
        assert_eq!(hits.len(), truth.len(), "a filtered search returns its k best when k pass the filter");
        if let Some(keep) = keep {
            assert!(hits.iter().all(|h| keep(h.id)), "every result passes the filter");
        }
        for w in hits.windows(2) {
            assert!(w[0].similarity >= w[1].similarity - 1e-6, "best first");
        }
        wanted += truth.len();
        found += truth.iter().filter(|t| hits.iter().any(|h| h.id == t.id)).count();
    }
    found as f64 / wanted as f64
}

#[test]
fn approximate_search_finds_what_exact_search_finds() {
    let data = vectors(3000, 48);
    let index = Index::build(&data, Params::default());
    assert_eq!(index.len(), 3000);
    let r = recall(&index, &data, None);
    assert!(r >= 0.97, "recall@10 {r}");
}

#[test]
fn filters_apply_inside_the_search() {
    let data = vectors(3000, 48);
    let index = Index::build(&data, Params::default());
    // One id in ten (a category, a price band…) — and, independently of the
    // clusters, so a post-filtered top 10 would keep about one.
    let sparse = |id: usize| (id * 7919) % 10 == 3;
    let r = recall(&index, &data, Some(&sparse));
    assert!(r >= 0.95, "filtered recall@10 {r}");
    let half = |id: usize| id.is_multiple_of(2);
    let r = recall(&index, &data, Some(&half));
    assert!(r >= 0.95, "filtered recall@10 {r}");
    // Nothing passes: nothing is returned.
    assert!(index.search(&data[0], 10, Some(&|_| false)).is_empty());
}

#[test]
fn an_empty_index_answers_nothing() {
    let index = Index::build(&[], Params::default());
    assert!(index.is_empty());
    assert!(index.search(&[1.0, 0.0], 5, None).is_empty());
}

#[test]
fn inserts_after_the_build_are_found() {
    let data = vectors(2000, 32);
    let mut index = Index::build(&data[..1000], Params::default());
    for (id, v) in data.iter().enumerate().skip(1000) {
        index.insert(v, id);
    }
    assert_eq!(index.len(), 2000);
    let r = recall(&index, &data, None);
    assert!(r >= 0.97, "recall@10 {r}");
    // Grown one insert at a time from nothing.
    let mut grown = Index::build(&[], Params::default());
    for (id, v) in data.iter().enumerate().take(500) {
        grown.insert(v, id);
    }
    let r = recall(&grown, &data[..500], None);
    assert!(r >= 0.97, "recall@10 {r}");
}

#[test]
fn a_saved_index_loads_with_the_same_answers() {
    let data = vectors(1500, 32);
    let index = Index::build(&data, Params::default());
    let mut bytes = Vec::new();
    index.save(&mut bytes).unwrap();
    let loaded = Index::load(&mut bytes.as_slice()).unwrap();
    assert_eq!(loaded.len(), index.len());
    for q in data.iter().step_by(50) {
        assert_eq!(loaded.search(q, 10, None), index.search(q, 10, None));
    }
    // A damaged or truncated file is an error, not a panic.
    assert!(Index::load(&mut &bytes[..bytes.len() - 3]).is_err());
    let mut wrong = bytes.clone();
    wrong[0] = b'X';
    assert!(Index::load(&mut wrong.as_slice()).is_err());
    // A count beyond its list's slots.
    let mut bad_count = bytes.clone();
    let base = 8 + 5 * 8 + 4 + 1 + 1500 + 1500 * 32 * 4;
    bad_count[base..base + 4].copy_from_slice(&1000u32.to_le_bytes());
    assert!(Index::load(&mut bad_count.as_slice()).is_err());
}
