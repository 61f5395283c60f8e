//! Evaluation on a BEIR-format folder (`corpus.jsonl[.gz]`, `queries.jsonl`,
//! `qrels/test.tsv`): index the corpus (title boosted), run every test query as
//! a bag of analysed terms (BM25), and report nDCG@10 and recall@100.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tantivy::Term;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

use crate::{SearchError, SearchIndex};

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

fn read_text(path: &Path) -> Result<String, SearchError> {
    let gz = path.with_extension("jsonl.gz");
    let (file, zipped) = if path.exists() { (path.to_path_buf(), false) } else { (gz, true) };
    let bytes = std::fs::read(&file).map_err(|e| SearchError::Io(format!("{}: {e}", file.display())))?;
    if !zipped {
        return String::from_utf8(bytes).map_err(|e| SearchError::Io(e.to_string()));
    }
    let mut s = String::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_string(&mut s)
        .map_err(|e| SearchError::Io(format!("{}: {e}", file.display())))?;
    Ok(s)
}

/// Relevance judgements: query id → {doc id → grade}.
pub fn read_qrels(path: &Path) -> Result<HashMap<String, HashMap<String, u32>>, SearchError> {
    let text = std::fs::read_to_string(path).map_err(|e| SearchError::Io(format!("{}: {e}", path.display())))?;
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

/// An indexed corpus ready to answer queries.
pub struct Corpus {
    index: SearchIndex,
    ids: Vec<String>,
    /// Per segment, the `id` fast-field column (opened once, not per query).
    columns: Vec<tantivy::columnar::Column<i64>>,
    pub index_seconds: f64,
}

pub fn index_corpus(dir: &Path) -> Result<Corpus, SearchError> {
    let started = Instant::now();
    let text = read_text(&dir.join("corpus.jsonl"))?;
    let index = SearchIndex::in_memory()?;
    let mut ids = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let c: CorpusLine = serde_json::from_str(line).map_err(|e| SearchError::Io(format!("corpus: {e}")))?;
        // The text field holds title and abstract, as bm25s indexes them;
        // the title field adds an optional boost.
        index.add_plain(ids.len() as i64, &c.title, &format!("{} {}", c.title, c.text))?;
        ids.push(c.id);
    }
    index.commit(0)?;
    let columns = index
        .reader()
        .searcher()
        .segment_readers()
        .iter()
        .map(|s| s.fast_fields().i64("id"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Corpus { index, ids, columns, index_seconds: started.elapsed().as_secs_f64() })
}

impl Corpus {
    /// Analysed terms of a query, each a SHOULD clause on title (boosted) and text.
    fn query(&self, text: &str, title_boost: f32) -> Box<dyn Query> {
        let f = self.index.fields();
        let mut analyzer = self.index.index().tokenizer_for_field(f.text).expect("registered analyser");
        let mut stream = analyzer.token_stream(text);
        let mut seen = HashSet::new();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        while stream.advance() {
            let t = stream.token().text.clone();
            if !seen.insert(t.clone()) {
                continue;
            }
            let tq = |field| TermQuery::new(Term::from_field_text(field, &t), IndexRecordOption::WithFreqs);
            clauses.push((Occur::Should, Box::new(tq(f.text))));
            if title_boost > 0.0 {
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(tq(f.title)), title_boost))));
            }
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Top `k` corpus ids for a query.
    pub fn search(&self, text: &str, k: usize, title_boost: f32) -> Result<Vec<String>, SearchError> {
        let searcher = self.index.reader().searcher();
        // A plain scored union (through `tweak_score`) rather than block-WAND:
        // with long queries over a small corpus, WAND's per-step sorting of
        // its term cursors costs more than the documents it skips.
        let collector = TopDocs::with_limit(k)
            .tweak_score(|_: &tantivy::SegmentReader| |_doc: tantivy::DocId, score: tantivy::Score| score);
        let top = searcher.search(&*self.query(text, title_boost), &collector)?;
        // Ids come from the fast-field column: reading stored documents would
        // decompress a block per hit.
        Ok(top
            .into_iter()
            .filter_map(|(_, a)| self.columns[a.segment_ord as usize].first(a.doc_id))
            .map(|i| self.ids[i as usize].clone())
            .collect())
    }

    pub fn documents(&self) -> usize {
        self.ids.len()
    }
}

fn ndcg_at(ranked: &[String], rel: &HashMap<String, u32>, k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, d)| {
            let g = f64::from(rel.get(d).copied().unwrap_or(0));
            (2f64.powf(g) - 1.0) / ((i + 2) as f64).log2()
        })
        .sum();
    let mut grades: Vec<u32> = rel.values().copied().collect();
    grades.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = grades
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, g)| (2f64.powf(f64::from(*g)) - 1.0) / ((i + 2) as f64).log2())
        .sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

/// Runs every query of `qrels` and scores it.
pub fn evaluate(
    corpus: &Corpus,
    queries: &HashMap<String, String>,
    qrels: &HashMap<String, HashMap<String, u32>>,
    title_boost: f32,
) -> Result<(f64, f64, usize, f64), SearchError> {
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
    Ok((ndcg / n, recall / n, ids.len(), ids.len() as f64 / seconds.max(1e-9)))
}

pub fn read_queries(dir: &Path) -> Result<HashMap<String, String>, SearchError> {
    let text = read_text(&dir.join("queries.jsonl"))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<QueryLine>(l)
                .map(|q| (q.id, q.text))
                .map_err(|e| SearchError::Io(format!("queries: {e}")))
        })
        .collect()
}

/// The whole evaluation. With `qrels/train.tsv` present, the title boost is
/// chosen on the training queries (never the test ones).
pub fn run(dir: &Path) -> Result<BeirReport, SearchError> {
    let corpus = index_corpus(dir)?;
    let queries = read_queries(dir)?;
    let test = read_qrels(&dir.join("qrels/test.tsv"))?;
    let train_path = dir.join("qrels/train.tsv");
    let mut title_boost = 1.0;
    if train_path.exists() {
        let train = read_qrels(&train_path)?;
        let mut best = f64::MIN;
        for b in [0.0f32, 0.5, 1.0, 2.0] {
            let (ndcg, _, _, _) = evaluate(&corpus, &queries, &train, b)?;
            if ndcg > best {
                best = ndcg;
                title_boost = b;
            }
        }
    }
    let (ndcg_10, recall_100, n, qps) = evaluate(&corpus, &queries, &test, title_boost)?;
    Ok(BeirReport {
        ndcg_10,
        recall_100,
        queries: n,
        documents: corpus.documents(),
        index_seconds: corpus.index_seconds,
        queries_per_second: qps,
        title_boost,
    })
}
