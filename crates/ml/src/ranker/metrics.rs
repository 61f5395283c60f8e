//! Ranking metrics per query, with LightGBM's conventions so figures compare
//! with its own: gain 2^label − 1, ties broken by input order, a query with
//! nothing relevant scores 1 in NDCG and 0 in average precision.

use serde::Serialize;

use super::data::RankSet;

/// Indices of `scores` best first, ties in input order.
fn order(scores: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    idx
}

fn gain(label: f64) -> f64 {
    label.exp2() - 1.0
}

fn discount(position: usize) -> f64 {
    1.0 / (position as f64 + 2.0).log2()
}

/// NDCG@k of one query ranked by `scores`.
pub fn ndcg_at(labels: &[f64], scores: &[f64], k: usize) -> f64 {
    let dcg: f64 = order(scores).iter().take(k).enumerate().map(|(p, &i)| gain(labels[i]) * discount(p)).sum();
    let mut ideal = labels.to_vec();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let best: f64 = ideal.iter().take(k).enumerate().map(|(p, &l)| gain(l) * discount(p)).sum();
    if best > 0.0 { dcg / best } else { 1.0 }
}

/// Average precision of one query (relevant = label > 0).
pub fn average_precision(labels: &[f64], scores: &[f64]) -> f64 {
    let (mut hits, mut sum) = (0usize, 0.0);
    for (p, &i) in order(scores).iter().enumerate() {
        if labels[i] > 0.0 {
            hits += 1;
            sum += hits as f64 / (p + 1) as f64;
        }
    }
    if hits == 0 { 0.0 } else { sum / hits as f64 }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankMetrics {
    #[serde(rename = "ndcg@5")]
    pub ndcg_5: f64,
    #[serde(rename = "ndcg@10")]
    pub ndcg_10: f64,
    pub map: f64,
    pub queries: usize,
    /// NDCG@10 per query, for paired comparisons.
    #[serde(skip)]
    pub per_query_ndcg_10: Vec<f64>,
}

/// Mean metrics over every query of `set`, ranked by `score` per row.
pub fn rank_metrics(set: &RankSet, score: impl Fn(&[f64]) -> f64) -> RankMetrics {
    let (mut n5, mut map) = (0.0, 0.0);
    let mut per_query = Vec::with_capacity(set.queries.len());
    for q in &set.queries {
        let labels = &set.labels[q.clone()];
        let scores: Vec<f64> = q.clone().map(|i| score(set.row(i))).collect();
        n5 += ndcg_at(labels, &scores, 5);
        per_query.push(ndcg_at(labels, &scores, 10));
        map += average_precision(labels, &scores);
    }
    let n = set.queries.len().max(1) as f64;
    RankMetrics {
        ndcg_5: n5 / n,
        ndcg_10: per_query.iter().sum::<f64>() / n,
        map: map / n,
        queries: set.queries.len(),
        per_query_ndcg_10: per_query,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_values() {
        // Relevant items at positions 2 and 3 of 3.
        let labels = [0.0, 1.0, 1.0];
        let scores = [3.0, 2.0, 1.0];
        let dcg = 1.0 / 3f64.log2() + 1.0 / 4f64.log2();
        let ideal = 1.0 + 1.0 / 3f64.log2();
        assert!((ndcg_at(&labels, &scores, 10) - dcg / ideal).abs() < 1e-12);
        assert!((average_precision(&labels, &scores) - (0.5 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!(ndcg_at(&[0.0, 0.0], &[1.0, 2.0], 10), 1.0);
        assert_eq!(average_precision(&[0.0, 0.0], &[1.0, 2.0]), 0.0);
        // Ties keep input order: the relevant second row ranks second.
        assert!(ndcg_at(&[0.0, 1.0], &[1.0, 1.0], 1) == 0.0);
    }
}
