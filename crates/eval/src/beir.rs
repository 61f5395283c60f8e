//! Search on a BEIR-format folder (`corpus.jsonl[.gz]`, `queries.jsonl`,
//! `qrels/test.tsv`): index the corpus (title boosted), run every test query as
//! a bag of analysed terms (BM25), and report nDCG@10 and recall@100.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use wantloop_search::{PlainSearcher, SearchIndex};

use crate::EvalError;

#[derive(Deserialize)]
struct CorpusLine {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct QueryLine {
    #[serde(rename = "_id")]
    id: String,
    text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BeirReport {
    #[serde(rename = "ndcg@10")]
    pub ndcg_10: f64,
    #[serde(rename = "recall@100")]
    pub recall_100: f64,
    pub queries: usize,
    pub documents: usize,
    pub index_seconds: f64,
    pub queries_per_second: f64,
    pub title_boost: f32,
}

fn read_text(path: &Path) -> Result<String, EvalError> {
    let gz = path.with_extension("jsonl.gz");
    let (file, zipped) = if path.exists() { (path.to_path_buf(), false) } else { (gz, true) };
    let bytes = std::fs::read(&file).map_err(|e| EvalError::Io(format!("{}: {e}", file.display())))?;
    if !zipped {
        return String::from_utf8(bytes).map_err(|e| EvalError::Format(format!("{}: {e}", file.display())));
    }
    let mut s = String::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_string(&mut s)
        .map_err(|e| EvalError::Io(format!("{}: {e}", file.display())))?;
    Ok(s)
}

/// Relevance judgements: query id → {doc id → grade}.
pub fn read_qrels(path: &Path) -> Result<HashMap<String, HashMap<String, u32>>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::Io(format!("{}: {e}", path.display())))?;
    let mut out: HashMap<String, HashMap<String, u32>> = HashMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() >= 3 {
            let grade: u32 = f[2].trim().parse().unwrap_or(0);
            if grade > 0 {
                out.entry(f[0].to_string()).or_default().insert(f[1].to_string(), grade);
            }
        }
    }
    Ok(out)
}

pub fn read_queries(dir: &Path) -> Result<HashMap<String, String>, EvalError> {
    let text = read_text(&dir.join("queries.jsonl"))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<QueryLine>(l)
                .map(|q| (q.id, q.text))
                .map_err(|e| EvalError::Format(format!("queries: {e}")))
        })
        .collect()
}

/// An indexed corpus ready to answer queries.
pub struct Corpus {
    searcher: PlainSearcher,
    ids: Vec<String>,
    pub index_seconds: f64,
}

pub fn index_corpus(dir: &Path) -> Result<Corpus, EvalError> {
    let started = Instant::now();
    let text = read_text(&dir.join("corpus.jsonl"))?;
    let index = SearchIndex::in_memory()?;
    let mut ids = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let c: CorpusLine = serde_json::from_str(line).map_err(|e| EvalError::Format(format!("corpus: {e}")))?;
        // The text field holds title and abstract, as bm25s indexes them;
        // the title field adds an optional boost.
        index.add_plain(ids.len() as i64, &c.title, &format!("{} {}", c.title, c.text))?;
        ids.push(c.id);
    }
    index.commit(0)?;
    Ok(Corpus { searcher: index.plain_searcher()?, ids, index_seconds: started.elapsed().as_secs_f64() })
}

impl Corpus {
    /// Top `k` corpus ids for a query.
    pub fn search(&self, text: &str, k: usize, title_boost: f32) -> Result<Vec<String>, EvalError> {
        Ok(self.searcher.search(text, k, title_boost)?.into_iter().map(|i| self.ids[i as usize].clone()).collect())
    }

    pub fn documents(&self) -> usize {
        self.ids.len()
    }
}

fn ndcg_at(ranked: &[String], rel: &HashMap<String, u32>, k: usize) -> f64 {
    let gain = |g: u32| 2f64.powf(f64::from(g)) - 1.0;
    let discount = |i: usize| ((i + 2) as f64).log2();
    let dcg: f64 =
        ranked.iter().take(k).enumerate().map(|(i, d)| gain(rel.get(d).copied().unwrap_or(0)) / discount(i)).sum();
    let mut grades: Vec<u32> = rel.values().copied().collect();
    grades.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = grades.iter().take(k).enumerate().map(|(i, g)| gain(*g) / discount(i)).sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

/// Metrics of one pass over the judged queries.
pub struct Pass {
    pub ndcg_10: f64,
    pub recall_100: f64,
    pub queries: usize,
    pub queries_per_second: f64,
}

/// Runs every query of `qrels` and scores it.
pub fn evaluate(
    corpus: &Corpus,
    queries: &HashMap<String, String>,
    qrels: &HashMap<String, HashMap<String, u32>>,
    title_boost: f32,
) -> Result<Pass, EvalError> {
    let mut ids: Vec<&String> = qrels.keys().filter(|q| queries.contains_key(*q)).collect();
    ids.sort();
    let started = Instant::now();
    let mut results = Vec::with_capacity(ids.len());
    for q in &ids {
        results.push(corpus.search(&queries[*q], 100, title_boost)?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let (mut ndcg, mut recall) = (0.0, 0.0);
    for (q, ranked) in ids.iter().zip(&results) {
        let rel = &qrels[*q];
        ndcg += ndcg_at(ranked, rel, 10);
        recall += ranked.iter().filter(|d| rel.contains_key(*d)).count() as f64 / rel.len() as f64;
    }
    let n = ids.len().max(1) as f64;
    Ok(Pass {
        ndcg_10: ndcg / n,
        recall_100: recall / n,
        queries: ids.len(),
        queries_per_second: ids.len() as f64 / seconds.max(1e-9),
    })
}

/// The whole evaluation. With `qrels/train.tsv` present, the title boost is
/// chosen on the training queries (never the test ones).
pub fn run(dir: &Path) -> Result<BeirReport, EvalError> {
    let corpus = index_corpus(dir)?;
    let queries = read_queries(dir)?;
    let test = read_qrels(&dir.join("qrels/test.tsv"))?;
    let train_path = dir.join("qrels/train.tsv");
    let mut title_boost = 1.0;
    if train_path.exists() {
        let train = read_qrels(&train_path)?;
        let mut best = f64::MIN;
        for b in [0.0f32, 0.5, 1.0, 2.0] {
            let ndcg = evaluate(&corpus, &queries, &train, b)?.ndcg_10;
            if ndcg > best {
                best = ndcg;
                title_boost = b;
            }
        }
    }
    let pass = evaluate(&corpus, &queries, &test, title_boost)?;
    Ok(BeirReport {
        ndcg_10: pass.ndcg_10,
        recall_100: pass.recall_100,
        queries: pass.queries,
        documents: corpus.documents(),
        index_seconds: corpus.index_seconds,
        queries_per_second: pass.queries_per_second,
        title_boost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcg_matches_hand_values() {
        let rel: HashMap<String, u32> = [("a".to_string(), 1), ("b".to_string(), 2)].into();
        let perfect = ["b".to_string(), "a".to_string()];
        assert!((ndcg_at(&perfect, &rel, 10) - 1.0).abs() < 1e-12);
        // a then b: (1/log2 2 + 3/log2 3) / (3/log2 2 + 1/log2 3)
        let swapped = ["a".to_string(), "b".to_string()];
        let want = (1.0 + 3.0 / 3f64.log2()) / (3.0 + 1.0 / 3f64.log2());
        assert!((ndcg_at(&swapped, &rel, 10) - want).abs() < 1e-12);
        assert_eq!(ndcg_at(&["z".to_string()], &rel, 10), 0.0);
    }
}
