//! The recommender's byte format, as stored in the model registry:
//! `WLREC2\n`, a JSON header line (parameters, ids, array lengths, EASE's
//! layout), then little-endian `f32` and `u32` arrays; the last `u32`s are
//! the users' history fingerprints. `WLREC1` (before fingerprints and the
//! dual form) still loads.

use serde::Deserialize;

use super::RecommenderError;
use super::als::AlsParams;
use super::cooccur::Neighbours;
use super::ease_dual::Dual;
use super::model::{AlsWeights, EaseWeights, Params, Recommender, Weights, index_of};

impl Recommender {
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
