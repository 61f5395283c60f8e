//! A fitted recommender: scoring, top-k with exclusions, and its byte format
//! (`WLREC1\n`, a JSON header line, then little-endian `f32`/`u32` arrays).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::als::{self, AlsParams};
use super::data::Interactions;
use super::knn::{self, Neighbours};
use super::{RecommenderError, ease};

fn index_of(items: &[String]) -> HashMap<String, u32> {
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
            Self::Popularity => "popularity",
            Self::Hybrid { .. } => "hybrid",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Weights {
    Ease(Vec<f32>),
    Als { users: Vec<f32>, items: Vec<f32> },
    Knn(Neighbours),
    Popularity,
    Hybrid { b: Vec<f32>, users: Vec<f32>, items: Vec<f32> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recommender {
    params: Params,
    users: Vec<String>,
    items: Vec<String>,
    index: HashMap<String, u32>,
    /// Interactions per item in the training data (the popularity model, and
    /// the tie-breaker of every model).
    popularity: Vec<f32>,
    weights: Weights,
}

impl Recommender {
    pub fn fit(x: &Interactions, params: &Params) -> Result<Self, RecommenderError> {
        if x.is_empty() {
            return Err(RecommenderError::Empty);
        }
        let mut popularity = vec![0.0f32; x.n_items()];
        for h in &x.by_user {
            for &i in h {
                popularity[i as usize] += 1.0;
            }
        }
        let weights = match params {
            Params::Ease { lambda, dropout } => Weights::Ease(ease::fit(x, *lambda, *dropout)?),
            Params::Als(p) => {
                let (users, items) = als::fit(x, p)?;
                Weights::Als { users, items }
            }
            Params::ItemKnn { neighbours } => Weights::Knn(knn::fit(x, *neighbours)),
            Params::Popularity => Weights::Popularity,
            Params::Hybrid { lambda, dropout, als: p, .. } => {
                let b = ease::fit(x, *lambda, *dropout)?;
                let (users, items) = als::fit(x, p)?;
                Weights::Hybrid { b, users, items }
            }
        };
        Ok(Self {
            params: params.clone(),
            users: x.users.clone(),
            index: index_of(&x.items),
            items: x.items.clone(),
            popularity,
            weights,
        })
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The blend of a fitted EASE and a fitted ALS model on the same data
    /// (tuning tries several weights without refitting either).
    pub fn hybrid_of(ease: &Recommender, als: &Recommender, weight: f64) -> Option<Recommender> {
        match (&ease.params, &ease.weights, &als.params, &als.weights) {
            (Params::Ease { lambda, dropout }, Weights::Ease(b), Params::Als(p), Weights::Als { users, items })
                if ease.items == als.items && ease.users == als.users =>
            {
                Some(Recommender {
                    params: Params::Hybrid { lambda: *lambda, dropout: *dropout, als: *p, weight },
                    weights: Weights::Hybrid { b: b.clone(), users: users.clone(), items: items.clone() },
                    ..ease.clone()
                })
            }
            _ => None,
        }
    }

    /// The training index of a user id, which ALS-based models need.
    pub fn user_index(&self, id: &str) -> Option<u32> {
        self.users.iter().position(|u| u == id).map(|u| u as u32)
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

    /// Scores every item for a user with this history (item indices). `user`
    /// is the user's training index, which ALS needs; an ALS model asked about
    /// a user it was not trained on answers by popularity.
    pub fn scores(&self, history: &[u32], user: Option<u32>, out: &mut Vec<f32>) {
        let n = self.items.len();
        out.resize(n, 0.0);
        match &self.weights {
            Weights::Ease(b) => ease::score(b, n, history, out),
            Weights::Knn(nb) => knn::score(nb, history, out),
            Weights::Als { users, items } => match (user, &self.params) {
                (Some(u), Params::Als(p)) if (u as usize) < self.users.len() => {
                    als::score(users, items, p.factors, u as usize, out)
                }
                _ => out.copy_from_slice(&self.popularity),
            },
            Weights::Popularity => out.copy_from_slice(&self.popularity),
            Weights::Hybrid { b, users, items } => {
                ease::score(b, n, history, out);
                if let (Some(u), Params::Hybrid { als: p, weight, .. }) = (user, &self.params)
                    && (u as usize) < self.users.len()
                {
                    let mut a = vec![0.0f32; n];
                    als::score(users, items, p.factors, u as usize, &mut a);
                    let w = *weight as f32;
                    for (o, x) in out.iter_mut().zip(a) {
                        *o = (1.0 - w) * *o + w * x;
                    }
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

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut floats: Vec<f32> = self.popularity.clone();
        let mut ints: Vec<u32> = Vec::new();
        match &self.weights {
            Weights::Ease(b) => floats.extend(b),
            Weights::Als { users, items } => {
                floats.extend(users);
                floats.extend(items);
            }
            Weights::Knn(nb) => {
                for list in nb {
                    ints.push(list.len() as u32);
                    for (j, s) in list {
                        ints.push(*j);
                        floats.push(*s);
                    }
                }
            }
            Weights::Popularity => {}
            Weights::Hybrid { b, users, items } => {
                floats.extend(b);
                floats.extend(users);
                floats.extend(items);
            }
        }
        let header = serde_json::json!({
            "params": self.params, "users": self.users, "items": self.items,
            "floats": floats.len(), "ints": ints.len(),
        });
        let mut out = b"WLREC1\n".to_vec();
        out.extend(header.to_string().as_bytes());
        out.push(b'\n');
        floats.iter().for_each(|f| out.extend(f.to_le_bytes()));
        ints.iter().for_each(|i| out.extend(i.to_le_bytes()));
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecommenderError> {
        let bad = |m: &str| RecommenderError::BadModel(m.to_string());
        let rest = bytes.strip_prefix(b"WLREC1\n".as_slice()).ok_or_else(|| bad("missing header"))?;
        let nl = rest.iter().position(|b| *b == b'\n').ok_or_else(|| bad("truncated header"))?;
        #[derive(Deserialize)]
        struct Header {
            params: Params,
            users: Vec<String>,
            items: Vec<String>,
            floats: usize,
            ints: usize,
        }
        let h: Header = serde_json::from_slice(&rest[..nl]).map_err(|e| bad(&e.to_string()))?;
        let body = &rest[nl + 1..];
        if body.len() != 4 * (h.floats + h.ints) {
            return Err(bad("wrong payload length"));
        }
        let word = |i: usize| [body[4 * i], body[4 * i + 1], body[4 * i + 2], body[4 * i + 3]];
        let floats: Vec<f32> = (0..h.floats).map(|i| f32::from_le_bytes(word(i))).collect();
        let ints: Vec<u32> = (h.floats..h.floats + h.ints).map(|i| u32::from_le_bytes(word(i))).collect();
        let (n, nu) = (h.items.len(), h.users.len());
        if floats.len() < n {
            return Err(bad("payload too short"));
        }
        let popularity = floats[..n].to_vec();
        let rest = &floats[n..];
        let weights = match &h.params {
            Params::Ease { .. } if rest.len() == n * n => Weights::Ease(rest.to_vec()),
            Params::Als(p) if rest.len() == (nu + n) * p.factors => {
                let (users, items) = rest.split_at(nu * p.factors);
                Weights::Als { users: users.to_vec(), items: items.to_vec() }
            }
            Params::ItemKnn { .. } => {
                let mut nb = Vec::with_capacity(n);
                let (mut ii, mut fi) = (0usize, 0usize);
                for _ in 0..n {
                    let len = *ints.get(ii).ok_or_else(|| bad("truncated neighbours"))? as usize;
                    ii += 1;
                    let mut list = Vec::with_capacity(len);
                    for _ in 0..len {
                        let j = *ints.get(ii).ok_or_else(|| bad("truncated neighbours"))?;
                        let s = *rest.get(fi).ok_or_else(|| bad("truncated neighbours"))?;
                        if j as usize >= n {
                            return Err(bad("neighbour out of range"));
                        }
                        list.push((j, s));
                        ii += 1;
                        fi += 1;
                    }
                    nb.push(list);
                }
                Weights::Knn(nb)
            }
            Params::Popularity if rest.is_empty() => Weights::Popularity,
            Params::Hybrid { als: p, .. } if rest.len() == n * n + (nu + n) * p.factors => {
                let (b, f) = rest.split_at(n * n);
                let (users, items) = f.split_at(nu * p.factors);
                Weights::Hybrid { b: b.to_vec(), users: users.to_vec(), items: items.to_vec() }
            }
            _ => return Err(bad("payload does not fit the parameters")),
        };
        Ok(Self { params: h.params, users: h.users, index: index_of(&h.items), items: h.items, popularity, weights })
    }
}
