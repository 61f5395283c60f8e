//! A fitted recommender: scoring, top-k with exclusions, and its byte format
//! (`WLREC2\n`, a JSON header line, then little-endian `f32`/`u32` arrays).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::als::{self, AlsParams};
use super::cooccur::{self, Neighbours};
use super::data::Interactions;
use super::ease_dual::{self, Dual};
use super::rp3::{self, Rp3Params};
use super::{EASE_MAX_ITEMS, EASE_MAX_USERS, RecommenderError, ease, knn};

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
enum EaseWeights {
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
struct AlsWeights {
    params: AlsParams,
    users: Vec<f32>,
    items: Vec<f32>,
    yty: Vec<f64>,
}

impl AlsWeights {
    fn new(params: AlsParams, users: Vec<f32>, items: Vec<f32>) -> Self {
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
enum Weights {
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
    params: Params,
    users: Vec<String>,
    items: Vec<String>,
    index: HashMap<String, u32>,
    user_index: HashMap<String, u32>,
    /// Per training user, the fingerprint of its training history (empty for
    /// models saved before fingerprints: then a known user is trusted as is).
    fingerprints: Vec<u64>,
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

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut floats: Vec<f32> = self.popularity.clone();
        let mut ints: Vec<u32> = Vec::new();
        let mut layout = "primal";
        let mut put_ease = |e: &EaseWeights, floats: &mut Vec<f32>, ints: &mut Vec<u32>| match e {
            EaseWeights::Primal(b) => floats.extend(b),
            EaseWeights::Dual(d) => {
                layout = "dual";
                floats.extend(&d.inv_lambda);
                floats.extend(&d.inv_diag);
                floats.extend(&d.w);
                for us in &d.by_item {
                    ints.push(us.len() as u32);
                    ints.extend(us);
                }
            }
        };
        match &self.weights {
            Weights::Ease(e) => put_ease(e, &mut floats, &mut ints),
            Weights::Als(a) => {
                floats.extend(&a.users);
                floats.extend(&a.items);
            }
            Weights::Neighbours(nb) => {
                for list in nb {
                    ints.push(list.len() as u32);
                    for (j, s) in list {
                        ints.push(*j);
                        floats.push(*s);
                    }
                }
            }
            Weights::Popularity => {}
            Weights::Hybrid(e, a) => {
                put_ease(e, &mut floats, &mut ints);
                floats.extend(&a.users);
                floats.extend(&a.items);
            }
        }
        for f in &self.fingerprints {
            ints.push(*f as u32);
            ints.push((*f >> 32) as u32);
        }
        let header = serde_json::json!({
            "params": self.params, "users": self.users, "items": self.items,
            "floats": floats.len(), "ints": ints.len(), "layout": layout,
        });
        let mut out = b"WLREC2\n".to_vec();
        out.extend(header.to_string().as_bytes());
        out.push(b'\n');
        floats.iter().for_each(|f| out.extend(f.to_le_bytes()));
        ints.iter().for_each(|i| out.extend(i.to_le_bytes()));
        out
    }

    /// Reads `WLREC2` (and `WLREC1`, written before fingerprints and the dual form).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecommenderError> {
        let bad = |m: &str| RecommenderError::BadModel(m.to_string());
        let (rest, version) = if let Some(rest) = bytes.strip_prefix(b"WLREC2\n".as_slice()) {
            (rest, 2)
        } else {
            (bytes.strip_prefix(b"WLREC1\n".as_slice()).ok_or_else(|| bad("missing header"))?, 1)
        };
        let nl = rest.iter().position(|b| *b == b'\n').ok_or_else(|| bad("truncated header"))?;
        #[derive(Deserialize)]
        struct Header {
            params: Params,
            users: Vec<String>,
            items: Vec<String>,
            floats: usize,
            ints: usize,
            #[serde(default)]
            layout: Option<String>,
        }
        let h: Header = serde_json::from_slice(&rest[..nl]).map_err(|e| bad(&e.to_string()))?;
        let body = &rest[nl + 1..];
        if h.floats.checked_add(h.ints).and_then(|w| w.checked_mul(4)) != Some(body.len()) {
            return Err(bad("wrong payload length"));
        }
        let word = |i: usize| [body[4 * i], body[4 * i + 1], body[4 * i + 2], body[4 * i + 3]];
        let floats: Vec<f32> = (0..h.floats).map(|i| f32::from_le_bytes(word(i))).collect();
        let mut ints: Vec<u32> = (h.floats..h.floats + h.ints).map(|i| u32::from_le_bytes(word(i))).collect();
        let (n, nu) = (h.items.len(), h.users.len());
        let fingerprints = if version == 2 {
            let at = ints.len().checked_sub(2 * nu).ok_or_else(|| bad("missing fingerprints"))?;
            let f = ints[at..].chunks(2).map(|p| u64::from(p[0]) | (u64::from(p[1]) << 32)).collect();
            ints.truncate(at);
            f
        } else {
            Vec::new()
        };
        if floats.len() < n {
            return Err(bad("payload too short"));
        }
        let popularity = floats[..n].to_vec();
        let mut reader = Reader { floats: &floats[n..], ints: &ints };
        let dual = h.layout.as_deref() == Some("dual");
        let weights = match &h.params {
            Params::Ease { .. } => Weights::Ease(reader.ease(n, nu, dual)?),
            Params::Als(p) => Weights::Als(reader.als(*p, n, nu)?),
            Params::ItemKnn { .. } | Params::Rp3(_) => Weights::Neighbours(reader.neighbours(n)?),
            Params::Popularity => Weights::Popularity,
            Params::Hybrid { als: p, .. } => {
                let e = reader.ease(n, nu, dual)?;
                Weights::Hybrid(e, reader.als(*p, n, nu)?)
            }
        };
        if !reader.floats.is_empty() || !reader.ints.is_empty() {
            return Err(bad("payload does not fit the parameters"));
        }
        Ok(Self {
            params: h.params,
            user_index: index_of(&h.users),
            users: h.users,
            fingerprints,
            index: index_of(&h.items),
            items: h.items,
            popularity,
            weights,
        })
    }
}

/// Reads a model's arrays in the order `to_bytes` wrote them.
struct Reader<'a> {
    floats: &'a [f32],
    ints: &'a [u32],
}

impl Reader<'_> {
    fn bad(m: &str) -> RecommenderError {
        RecommenderError::BadModel(m.to_string())
    }

    fn floats(&mut self, len: usize) -> Result<Vec<f32>, RecommenderError> {
        if self.floats.len() < len {
            return Err(Self::bad("payload too short"));
        }
        let (head, rest) = self.floats.split_at(len);
        self.floats = rest;
        Ok(head.to_vec())
    }

    fn int(&mut self) -> Result<u32, RecommenderError> {
        let (first, rest) = self.ints.split_first().ok_or_else(|| Self::bad("truncated lists"))?;
        self.ints = rest;
        Ok(*first)
    }

    fn ease(&mut self, n: usize, nu: usize, dual: bool) -> Result<EaseWeights, RecommenderError> {
        if !dual {
            return Ok(EaseWeights::Primal(self.floats(n.checked_mul(n).ok_or_else(|| Self::bad("too large"))?)?));
        }
        let inv_lambda = self.floats(n)?;
        let inv_diag = self.floats(n)?;
        let w = self.floats(n.checked_mul(nu).ok_or_else(|| Self::bad("too large"))?)?;
        let mut by_item = Vec::with_capacity(n);
        for _ in 0..n {
            let len = self.int()? as usize;
            let mut us = Vec::with_capacity(len.min(nu));
            for _ in 0..len {
                let u = self.int()?;
                if u as usize >= nu {
                    return Err(Self::bad("user out of range"));
                }
                us.push(u);
            }
            by_item.push(us);
        }
        Ok(EaseWeights::Dual(Dual { users: nu, inv_lambda, inv_diag, w, by_item }))
    }

    fn als(&mut self, p: AlsParams, n: usize, nu: usize) -> Result<AlsWeights, RecommenderError> {
        let users = self.floats(nu.checked_mul(p.factors).ok_or_else(|| Self::bad("too large"))?)?;
        let items = self.floats(n.checked_mul(p.factors).ok_or_else(|| Self::bad("too large"))?)?;
        Ok(AlsWeights::new(p, users, items))
    }

    fn neighbours(&mut self, n: usize) -> Result<Neighbours, RecommenderError> {
        let mut nb = Vec::with_capacity(n);
        for _ in 0..n {
            let len = self.int()? as usize;
            let mut list = Vec::with_capacity(len.min(n));
            for _ in 0..len {
                let j = self.int()?;
                let (s, rest) = self.floats.split_first().ok_or_else(|| Self::bad("truncated neighbours"))?;
                self.floats = rest;
                if j as usize >= n {
                    return Err(Self::bad("neighbour out of range"));
                }
                list.push((j, *s));
            }
            nb.push(list);
        }
        Ok(nb)
    }
}
