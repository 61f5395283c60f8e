//! Classification metrics: accuracy, per-label precision/recall/F1, macro-F1
//! and the confusion matrix, computed from (gold, predicted) label indices.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold examples of this label.
    pub support: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassificationMetrics {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_label: BTreeMap<String, LabelScores>,
    /// Row = gold label, column = predicted label, both in `labels` order.
    pub confusion: Vec<Vec<usize>>,
    pub labels: Vec<String>,
    pub examples: usize,
}

/// Scores predictions. `pairs` holds (gold, predicted) indices into `labels`.
pub fn classification(labels: &[String], pairs: &[(usize, usize)]) -> ClassificationMetrics {
    let k = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for &(g, p) in pairs {
        if g < k && p < k {
            confusion[g][p] += 1;
        }
    }
    let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
    let mut per_label = BTreeMap::new();
    let mut f1_sum = 0.0;
    for (i, label) in labels.iter().enumerate() {
        let tp = confusion[i][i] as f64;
        let predicted: usize = (0..k).map(|g| confusion[g][i]).sum();
        let support: usize = confusion[i].iter().sum();
        let precision = if predicted == 0 { 0.0 } else { tp / predicted as f64 };
        let recall = if support == 0 { 0.0 } else { tp / support as f64 };
        let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
        f1_sum += f1;
        per_label.insert(label.clone(), LabelScores { precision, recall, f1, support });
    }
    ClassificationMetrics {
        accuracy: if pairs.is_empty() { 0.0 } else { correct as f64 / pairs.len() as f64 },
        macro_f1: if k == 0 { 0.0 } else { f1_sum / k as f64 },
        per_label,
        confusion,
        labels: labels.to_vec(),
        examples: pairs.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_values() {
        let labels = vec!["a".to_string(), "b".to_string()];
        // gold a: predicted a, a, b; gold b: predicted b, a.
        let m = classification(&labels, &[(0, 0), (0, 0), (0, 1), (1, 1), (1, 0)]);
        assert!((m.accuracy - 0.6).abs() < 1e-12);
        let a = &m.per_label["a"];
        assert!((a.precision - 2.0 / 3.0).abs() < 1e-12 && (a.recall - 2.0 / 3.0).abs() < 1e-12);
        let b = &m.per_label["b"];
        assert!((b.precision - 0.5).abs() < 1e-12 && (b.recall - 0.5).abs() < 1e-12);
        assert!((m.macro_f1 - (2.0 / 3.0 + 0.5) / 2.0).abs() < 1e-12);
        assert_eq!(m.confusion, vec![vec![2, 1], vec![1, 1]]);
    }
}
