//! Question matching on a pair file (the BQ Corpus CSV: `sentence1,sentence2,
//! label`, or any layout `pair_file` reads) through the code path of `GET
//! /v1/search`: every distinct `sentence2` is indexed as an offer, every
//! label-1 pair's `sentence1` is searched as a person would type it, and the
//! rank of the pair's own `sentence2` gives top-1 accuracy and MRR@10 (the
//! protocol of the bm25s peer in `bench/search/bm25s_pairs.py`).

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use wantloop_core::Offer;
use wantloop_search::query::QueryWeights;
use wantloop_search::{Kind, SearchIndex, SearchRequest};

use crate::EvalError;

#[derive(Debug, Clone, Serialize)]
pub struct PairsReport {
    pub top1: f64,
    #[serde(rename = "mrr@10")]
    pub mrr_10: f64,
    /// Label-1 pairs searched.
    pub queries: usize,
    /// Distinct `sentence2` texts indexed.
    pub pool: usize,
    /// Queries that found nothing at all.
    pub no_hits: usize,
    pub queries_per_second: f64,
    pub index_seconds: f64,
}

struct Pairs {
    pool: Vec<String>,
    /// (query text, index of its gold answer in `pool`).
    queries: Vec<(String, usize)>,
}

fn read(path: &Path) -> Result<Pairs, EvalError> {
    let mut pool = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut queries = Vec::new();
    for p in crate::pair_file::read(path)?.pairs {
        let gold = *seen.entry(p.b.clone()).or_insert_with(|| {
            pool.push(p.b.clone());
            pool.len() - 1
        });
        if p.label {
            queries.push((p.a, gold));
        }
    }
    Ok(Pairs { pool, queries })
}

fn pool_offer(id: i64, text: &str) -> Offer {
    Offer::available(id, "pool", text, "faq", 0)
}

/// Runs the protocol; `weights` replaces the query builder's defaults (for
/// choosing them on a dev file).
pub fn run(path: &Path, weights: Option<QueryWeights>) -> Result<PairsReport, EvalError> {
    let pairs = read(path)?;
    let started = Instant::now();
    let mut index = SearchIndex::in_memory()?;
    if let Some(w) = weights {
        index = index.with_weights(w);
    }
    for (i, text) in pairs.pool.iter().enumerate() {
        index.upsert_offer(&pool_offer(i as i64, text))?;
    }
    index.commit(0)?;
    let index_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let (mut top1, mut rr, mut no_hits) = (0usize, 0.0, 0usize);
    for (q, gold) in &pairs.queries {
        let request = SearchRequest { q: q.clone(), kind: Some(Kind::Offer), limit: 10, ..Default::default() };
        let hits = index.search(&request)?.hits;
        no_hits += usize::from(hits.is_empty());
        if let Some(rank) = hits.iter().position(|h| h.id == *gold as i64) {
            top1 += usize::from(rank == 0);
            rr += 1.0 / (rank + 1) as f64;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let n = pairs.queries.len().max(1) as f64;
    Ok(PairsReport {
        top1: top1 as f64 / n,
        mrr_10: rr / n,
        queries: pairs.queries.len(),
        pool: pairs.pool.len(),
        no_hits,
        queries_per_second: pairs.queries.len() as f64 / seconds.max(1e-9),
        index_seconds,
    })
}
