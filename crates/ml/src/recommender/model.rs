//! A fitted recommender: its parameters and weights, scoring, and top-k with
//! exclusions (its byte format is in `model_file.rs`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::als::{self, AlsParams};
use super::cooccur::{self, Neighbours};
use super::data::Interactions;
use super::ease_dual::{self, Dual};
use super::rp3::{self, Rp3Params};
use super::{EASE_MAX_ITEMS, EASE_MAX_USERS, RecommenderError, ease, knn};

pub(super) fn index_of(items: &[String]) -> HashMap<String, u32> {
    items.iter().enumerate().map(|(i, id)| (id.clone(), i as u32)).collect()
}

/// Which model, with its hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum Params {
    Ease {
        lambda: f64,
        dropout: f64,
    },
    Als(AlsParams),
    ItemKnn {
        neighbours: usize,
    },
    #[serde(rename = "rp3beta")]
    Rp3(Rp3Params),
    Popularity,
    /// `(1 − weight) · EASE + weight · ALS`, raw scores.
    Hybrid {
        lambda: f64,
        dropout: f64,
        als: AlsParams,
        weight: f64,
    },
}

impl Params {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ease { .. } => "ease",
            Self::Als(_) => "als",
            Self::ItemKnn { .. } => "itemknn",
            Self::Rp3(_) => "rp3beta",
            Self::Popularity => "popularity",
            Self::Hybrid { .. } => "hybrid",
        }
    }
}

/// EASE's weights in the cheaper of its two forms for the data's shape.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum EaseWeights {
    /// B, row-major items × items.
    Primal(Vec<f32>),
    Dual(Dual),
}

impl EaseWeights {
    fn fit(x: &Interactions, lambda: f64, dropout: f64) -> Result<Self, RecommenderError> {
        match ease_layout(x.n_users(), x.n_items()) {
            Some(EaseLayout::Dual) => Ok(Self::Dual(ease_dual::fit(x, lambda, dropout)?)),
            Some(EaseLayout::Primal) => Ok(Self::Primal(ease::fit(x, lambda, dropout)?)),
            None => Err(RecommenderError::TooLarge(format!(
                "EASE needs at most {EASE_MAX_ITEMS} items or {EASE_MAX_USERS} users; the data has {} items and {} users",
                x.n_items(),
                x.n_users()
            ))),
        }
    }

    fn score(&self, history: &[u32], trained: Option<usize>, out: &mut [f32]) {
        match (self, trained) {
            (Self::Primal(b), _) => ease::score(b, out.len(), history, out),
            (Self::Dual(d), Some(u)) => ease_dual::score_training_user(d, u, history, out),
            (Self::Dual(d), None) => ease_dual::score(d, history, out),
        }
    }
}

/// ALS factors, with YᵀY kept for folding in new users.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct AlsWeights {
    pub(super) params: AlsParams,
    pub(super) users: Vec<f32>,
    pub(super) items: Vec<f32>,
    yty: Vec<f64>,
}

impl AlsWeights {
    pub(super) fn new(params: AlsParams, users: Vec<f32>, items: Vec<f32>) -> Self {
        let yty = als::item_gram(&items, params.factors);
        Self { params, users, items, yty }
    }

    fn fit(x: &Interactions, p: &AlsParams) -> Result<Self, RecommenderError> {
        let (users, items) = als::fit(x, p)?;
        Ok(Self::new(*p, users, items))
    }

    /// A trained user's own factors; anyone else folded in from the history.
    fn score(&self, history: &[u32], trained: Option<usize>, popularity: &[f32], out: &mut [f32]) {
        let k = self.params.factors;
        match trained {
            Some(u) => als::score(&self.users, &self.items, k, u, out),
            None if history.is_empty() => out.copy_from_slice(popularity),
            None => {
                let u = als::fold_in(&self.items, &self.yty, history, &self.params);
                als::score_vector(&u, &self.items, k, out)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Weights {
    Ease(EaseWeights),
    Als(AlsWeights),
    /// Item-kNN and RP3beta: each item's best neighbours.
    Neighbours(Neighbours),
    Popularity,
    Hybrid(EaseWeights, AlsWeights),
}

/// Which form of EASE fits data of this shape, if any: the dual while there
/// are fewer users than items (and few enough for its users² matrix), else
/// the primal while its items² matrix is affordable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EaseLayout {
    Primal,
    Dual,
}

pub fn ease_layout(users: usize, items: usize) -> Option<EaseLayout> {
    if users < items && users <= EASE_MAX_USERS && users.saturating_mul(items) <= EASE_MAX_ITEMS * EASE_MAX_ITEMS {
        Some(EaseLayout::Dual)
    } else if items <= EASE_MAX_ITEMS {
        Some(EaseLayout::Primal)
    } else {
        None
    }
}

/// A cheap fingerprint of a history (FNV-1a over its item indices): scoring
/// recognises a training user whose history has not changed since training,
/// and folds in anyone else.
fn fingerprint(history: &[u32]) -> u64 {
    history.iter().fold(0xcbf2_9ce4_8422_2325u64 ^ history.len() as u64, |h, &i| {
        (h ^ u64::from(i)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recommender {
    pub(super) params: Params,
    pub(super) users: Vec<String>,
    pub(super) items: Vec<String>,
    pub(super) index: HashMap<String, u32>,
    pub(super) user_index: HashMap<String, u32>,
    /// Per training user, the fingerprint of its training history (empty for
    /// models saved before fingerprints: then a known user is trusted as is).
    pub(super) fingerprints: Vec<u64>,
    /// Interactions per item in the training data (the popularity model, and
    /// the tie-breaker of every model).
    pub(super) popularity: Vec<f32>,
    pub(super) weights: Weights,
}

impl Recommender {
    pub fn fit(x: &Interactions, params: &Params) -> Result<Self, RecommenderError> {
        if x.is_empty() {
            return Err(RecommenderError::Empty);
        }
        let weights = match params {
            Params::Ease { lambda, dropout } => Weights::Ease(EaseWeights::fit(x, *lambda, *dropout)?),
            Params::Als(p) => Weights::Als(AlsWeights::fit(x, p)?),
            Params::ItemKnn { neighbours } => Weights::Neighbours(knn::fit(x, *neighbours)),
            Params::Rp3(p) => Weights::Neighbours(rp3::fit(x, p)),
            Params::Popularity => Weights::Popularity,
            Params::Hybrid { lambda, dropout, als: p, .. } => {
                Weights::Hybrid(EaseWeights::fit(x, *lambda, *dropout)?, AlsWeights::fit(x, p)?)
            }
        };
        Ok(Self::assemble(x, params.clone(), weights))
    }

    /// An ALS model from factors fitted elsewhere (tuning's early stopping).
    pub fn from_als_factors(x: &Interactions, params: AlsParams, users: Vec<f32>, items: Vec<f32>) -> Self {
        Self::assemble(x, Params::Als(params), Weights::Als(AlsWeights::new(params, users, items)))
    }

    fn assemble(x: &Interactions, params: Params, weights: Weights) -> Self {
        let mut popularity = vec![0.0f32; x.n_items()];
        for h in &x.by_user {
            for &i in h {
                popularity[i as usize] += 1.0;
            }
        }
        Self {
            params,
            users: x.users.clone(),
            user_index: index_of(&x.users),
            fingerprints: x.by_user.iter().map(|h| fingerprint(h)).collect(),
            index: index_of(&x.items),
            items: x.items.clone(),
            popularity,
            weights,
        }
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The blend of a fitted EASE and a fitted ALS model on the same data
    /// (tuning tries several weights without refitting either).
    pub fn hybrid_of(ease: &Recommender, als: &Recommender, weight: f64) -> Option<Recommender> {
        match (&ease.params, &ease.weights, &als.weights) {
            (Params::Ease { lambda, dropout }, Weights::Ease(e), Weights::Als(a))
                if ease.items == als.items && ease.users == als.users =>
            {
                Some(Recommender {
                    params: Params::Hybrid { lambda: *lambda, dropout: *dropout, als: a.params, weight },
                    weights: Weights::Hybrid(e.clone(), a.clone()),
                    ..ease.clone()
                })
            }
            _ => None,
        }
    }

    /// The training index of a user id.
    pub fn user_index(&self, id: &str) -> Option<u32> {
        self.user_index.get(id).copied()
    }

    pub fn items(&self) -> &[String] {
        &self.items
    }

    pub fn item_index(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    pub fn popularity(&self) -> &[f32] {
        &self.popularity
    }

    /// Scores every item for a user with this history (ascending item
    /// indices). `user` is the user's training index: a training user whose
    /// history is unchanged is scored from what was learnt about it; anyone
    /// else (a newcomer, or a user with new interactions) from the history.
    pub fn scores(&self, history: &[u32], user: Option<u32>, out: &mut Vec<f32>) {
        let n = self.items.len();
        out.resize(n, 0.0);
        let trained = user
            .map(|u| u as usize)
            .filter(|&u| u < self.users.len() && self.fingerprints.get(u).is_none_or(|f| *f == fingerprint(history)));
        match &self.weights {
            Weights::Ease(e) => e.score(history, trained, out),
            Weights::Neighbours(nb) => cooccur::score(nb, history, out),
            Weights::Als(a) => a.score(history, trained, &self.popularity, out),
            Weights::Popularity => out.copy_from_slice(&self.popularity),
            Weights::Hybrid(e, a) => {
                e.score(history, trained, out);
                let Params::Hybrid { weight, .. } = &self.params else { return };
                let mut other = vec![0.0f32; n];
                a.score(history, trained, &self.popularity, &mut other);
                let w = *weight as f32;
                for (o, x) in out.iter_mut().zip(other) {
                    *o = (1.0 - w) * *o + w * x;
                }
            }
        }
    }

    /// The `k` best items not excluded, best first (ties: more popular, lower index).
    pub fn top_k(&self, scores: &[f32], k: usize, excluded: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
        let mut candidates: Vec<(u32, f32)> =
            scores.iter().enumerate().map(|(i, s)| (i as u32, *s)).filter(|(i, _)| !excluded(*i)).collect();
        let cmp = |a: &(u32, f32), b: &(u32, f32)| {
            b.1.total_cmp(&a.1)
                .then(self.popularity[b.0 as usize].total_cmp(&self.popularity[a.0 as usize]))
                .then(a.0.cmp(&b.0))
        };
        if candidates.len() > k && k > 0 {
            candidates.select_nth_unstable_by(k - 1, cmp);
            candidates.truncate(k);
        }
        candidates.sort_by(cmp);
        candidates.truncate(k);
        candidates
    }
}
