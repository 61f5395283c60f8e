//! Nearest neighbours by cosine over unit vectors. `Index` is an HNSW
//! graph (hnsw_rs) whose search applies the caller's filter while it walks
//! the graph, so a filtered query still returns its k best matches rather
//! than the survivors of an unfiltered top k; `exact` is the brute-force
//! reference the approximate results are measured against.

use hnsw_rs::prelude::{Distance, Hnsw};
use serde::Serialize;

/// Graph parameters; the defaults are hnswlib's common setting (M 16,
/// efConstruction 200), so the two are compared like for like.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Params {
    pub m: usize,
    pub ef_construction: usize,
    pub ef_search: usize,
}

impl Default for Params {
    fn default() -> Self {
        Self { m: 16, ef_construction: 200, ef_search: 40 }
    }
}

/// 1 − cosine of unit vectors, with simsimd's vectorised dot product
/// (chosen at run time for the CPU).
#[derive(Debug, Clone, Copy, Default)]
pub struct CosineDistance;

impl Distance<f32> for CosineDistance {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        // Rounding can take a vector's distance to itself just below 0,
        // which hnsw_rs refuses.
        (1.0 - dot(a, b)).max(0.0)
    }
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    use simsimd::SpatialSimilarity;
    f32::dot(a, b).map_or_else(|| a.iter().zip(b).map(|(x, y)| x * y).sum(), |d| d as f32)
}

/// A match: the vector's position in the index and its cosine similarity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hit {
    pub id: usize,
    pub similarity: f32,
}

pub struct Index {
    graph: Hnsw<'static, f32, CosineDistance>,
    len: usize,
    params: Params,
}

impl Index {
    /// Builds the graph over `vectors` (ids are their positions).
    pub fn build(vectors: &[Vec<f32>], params: Params) -> Self {
        let layers = 16;
        let mut graph = Hnsw::new(params.m, vectors.len().max(1), layers, params.ef_construction, CosineDistance);
        let data: Vec<(&Vec<f32>, usize)> = vectors.iter().zip(0..).collect();
        graph.parallel_insert(&data);
        graph.set_searching_mode(true);
        Self { graph, len: vectors.len(), params }
    }

    /// Adds `vector` as `id` (the next id: its position).
    pub fn insert(&mut self, vector: &[f32], id: usize) {
        self.graph.insert_slice((vector, id));
        self.len += 1;
    }

    /// Candidates kept while searching: more is slower and finds more.
    pub fn set_ef_search(&mut self, ef: usize) {
        self.params.ef_search = ef.max(1);
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `k` nearest to `query` among ids `keep` accepts, best first.
    pub fn search(&self, query: &[f32], k: usize, keep: Option<&dyn Fn(usize) -> bool>) -> Vec<Hit> {
        if self.len == 0 || k == 0 {
            return Vec::new();
        }
        let ef = self.params.ef_search.max(k);
        let found = match keep {
            Some(keep) => {
                let filter = |id: &usize| keep(*id);
                self.graph.search_filter(query, k, ef, Some(&filter))
            }
            None => self.graph.search(query, k, ef),
        };
        found.into_iter().map(|n| Hit { id: n.d_id, similarity: 1.0 - n.distance }).collect()
    }
}

/// The exact `k` nearest among `vectors` that `keep` accepts, best first.
pub fn exact(vectors: &[Vec<f32>], query: &[f32], k: usize, keep: Option<&dyn Fn(usize) -> bool>) -> Vec<Hit> {
    let mut hits: Vec<Hit> = vectors
        .iter()
        .enumerate()
        .filter(|(id, _)| keep.is_none_or(|f| f(*id)))
        .map(|(id, v)| Hit { id, similarity: dot(query, v) })
        .collect();
    hits.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then(a.id.cmp(&b.id)));
    hits.truncate(k);
    hits
}
