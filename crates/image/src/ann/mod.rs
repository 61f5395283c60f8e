//! Nearest neighbours by cosine over unit vectors. `Index` is an HNSW
//! graph whose search applies the caller's filter while it walks the graph,
//! so a filtered query still returns its k best matches rather than the
//! survivors of an unfiltered top k; `exact` is the brute-force reference
//! the approximate results are measured against.

mod dot;
mod graph;
mod scratch;

/// The cosine of unit vectors.
pub use dot::dot;
pub use graph::{Index, LoadError};
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

/// A match: the vector's position in the index and its cosine similarity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hit {
    pub id: usize,
    pub similarity: f32,
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
