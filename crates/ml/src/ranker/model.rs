//! A trained ranker: its trees, the features it reads by name, and the
//! explanation of a score — each feature's contribution, found by following
//! the row's path through every tree and crediting each split's feature with
//! the change in the node's output it causes (Saabas' method). The root
//! outputs make the bias, so bias + Σ contributions = score exactly.

use serde::{Deserialize, Serialize};

use super::RankerError;
use super::train::Params;
use super::tree::Tree;

const MAGIC: &[u8] = b"WLRANK1\n";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranker {
    pub feature_names: Vec<String>,
    pub(crate) trees: Vec<Tree>,
    pub params: Params,
}

/// Why a row scored what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub score: f64,
    /// What every row gets before its features are read.
    pub bias: f64,
    /// Per feature, in the model's feature order.
    pub contributions: Vec<f64>,
}

impl Ranker {
    /// Keeps the first `rounds` trees.
    pub fn truncate(&mut self, rounds: usize) {
        self.trees.truncate(rounds);
    }

    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Checks a row's width before any scoring.
    pub fn check(&self, n_features: usize) -> Result<(), RankerError> {
        if n_features == self.feature_names.len() {
            Ok(())
        } else {
            Err(RankerError::Features { expected: self.feature_names.len(), got: n_features })
        }
    }

    pub fn score(&self, x: &[f64]) -> f64 {
        self.trees.iter().map(|t| t.predict(x)).sum()
    }

    pub fn explain(&self, x: &[f64]) -> Explanation {
        let mut contributions = vec![0.0; self.feature_names.len()];
        let mut bias = 0.0;
        let mut score = 0.0;
        for tree in &self.trees {
            let mut path = tree.path(x);
            let Some(root) = path.next() else { continue };
            bias += root.value;
            let mut last = root;
            for node in path {
                if let Some((f, ..)) = last.split {
                    contributions[f] += node.value - last.value;
                }
                last = node;
            }
            score += last.value;
        }
        Explanation { score, bias, contributions }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend(serde_json::to_vec(self).unwrap_or_default());
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RankerError> {
        let rest = bytes.strip_prefix(MAGIC).ok_or_else(|| RankerError::BadModel("missing header".into()))?;
        let r: Ranker = serde_json::from_slice(rest).map_err(|e| RankerError::BadModel(e.to_string()))?;
        for t in &r.trees {
            let ok = !t.nodes.is_empty()
                && t.nodes.iter().all(|n| {
                    n.split.is_none_or(|(f, _, l, rr)| {
                        f < r.feature_names.len() && l < t.nodes.len() && rr < t.nodes.len()
                    })
                });
            // Children come after their parent, so a walk always ends.
            let acyclic = t.nodes.iter().enumerate().all(|(i, n)| n.split.is_none_or(|(_, _, l, rr)| l > i && rr > i));
            if !ok || !acyclic {
                return Err(RankerError::BadModel("a tree refers to a missing node or feature".into()));
            }
        }
        Ok(r)
    }
}
