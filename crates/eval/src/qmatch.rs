//! Question matching on pair files (`sentence1,sentence2,label`, the BQ
//! corpus CSV), through the FAQ assistant's own pieces: the paraphrase scorer
//! trained on one file, measured on another.
//!
//! (a) Pair classification: accuracy, F1 and AUC on the test file at the
//! threshold chosen on the training file (grouped out-of-fold scores).
//!
//! (b) Retrieval. Every distinct sentence of the test file is an FAQ entry;
//! each label-1 pair's sentence1 queries them all. The query's own text is
//! not a candidate (it is the question, not an answer to it: left in, it
//! ranks first for every system and the figure measures nothing). Two golds:
//! `any` = every sentence paired positively with the query in the file (the
//! phrasings of one FAQ entry), `own` = the pair's sentence2 only. BM25
//! (characters, bigrams, words) returns 100 candidates; the scorer re-ranks
//! them by `margin + w · normalised BM25`, `w` chosen on a held-out fold of
//! groups of the training file. With `mined` > 0 the re-ranker is trained
//! on the training file's pairs plus negatives mined from its own retrieval.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use wantloop_ml::paraphrase::{
    LabelledPair, LexicalIndex, ParaphraseScorer, ScorerConfig, ScorerTrainReport, group_folds, mine_pairs, train,
};

use crate::EvalError;

const CANDIDATES: usize = 100;
/// Weights of normalised BM25 tried when re-ranking (`None`: BM25 alone).
const WEIGHTS: [Option<f64>; 8] = [Some(0.0), Some(1.0), Some(2.0), Some(4.0), Some(8.0), Some(16.0), Some(32.0), None];

#[derive(Debug, Clone, Serialize)]
pub struct PairReport {
    pub pairs: usize,
    pub accuracy: f64,
    pub f1: f64,
    pub auc: f64,
    pub threshold: f64,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RankFigures {
    pub top1: f64,
    #[serde(rename = "mrr@10")]
    pub mrr_10: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetrievalReport {
    pub entries: usize,
    pub queries: usize,
    /// Re-ranked by the scorer, gold = any positive partner of the query.
    pub any: RankFigures,
    /// Re-ranked, gold = the pair's own sentence2.
    pub own: RankFigures,
    /// BM25 candidates in their own order, both golds.
    pub bm25_any: RankFigures,
    pub bm25_own: RankFigures,
    /// Share of queries with a gold (any partner) among the BM25 candidates:
    /// the most any re-ranking of them can reach.
    pub candidate_recall_any: f64,
    /// Weight of normalised BM25 in the re-ranking (null: BM25 alone won on the training file).
    pub bm25_weight: Option<f64>,
    pub queries_per_second: f64,
    /// BM25 neighbours per training sentence mined as negatives for the re-ranker (0: none).
    pub mined_neighbours: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct QmatchReport {
    pub train: ScorerTrainReport,
    pub pairs: PairReport,
    pub retrieval: RetrievalReport,
    /// Rows of the training and test files skipped for an empty sentence.
    pub skipped_empty: [usize; 2],
}

/// Area under the ROC curve by the rank-sum formula, ties shared.
fn auc(scored: &[(f64, bool)]) -> f64 {
    let mut s: Vec<(f64, bool)> = scored.to_vec();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < s.len() {
        let mut j = i;
        while j < s.len() && s[j].0 == s[i].0 {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0;
        rank_sum += mid * s[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let p = s.iter().filter(|x| x.1).count() as f64;
    let n = s.len() as f64 - p;
    if p == 0.0 || n == 0.0 { 0.5 } else { (rank_sum - p * (p + 1.0) / 2.0) / (p * n) }
}

fn classify(scorer: &ParaphraseScorer, pairs: &[LabelledPair]) -> PairReport {
    use rayon::prelude::*;
    let scored: Vec<(f64, bool)> = pairs.par_iter().map(|p| (scorer.score(&p.a, &p.b).probability, p.label)).collect();
    let t = scorer.threshold();
    let tp = scored.iter().filter(|s| s.0 >= t && s.1).count() as f64;
    let fp = scored.iter().filter(|s| s.0 >= t && !s.1).count() as f64;
    let fneg = scored.iter().filter(|s| s.0 < t && s.1).count() as f64;
    let correct = scored.iter().filter(|s| (s.0 >= t) == s.1).count() as f64;
    PairReport {
        pairs: pairs.len(),
        accuracy: correct / scored.len() as f64,
        f1: if tp > 0.0 { 2.0 * tp / (2.0 * tp + fp + fneg) } else { 0.0 },
        auc: auc(&scored),
        threshold: t,
    }
}

/// The retrieval task of a pair file: entries, and per positive pair its
/// query, the entry of its own text, and both golds.
struct Task {
    entries: Vec<String>,
    queries: Vec<Query>,
}

struct Query {
    text: usize,
    own: usize,
    any: HashSet<usize>,
}

fn task(pairs: &[LabelledPair]) -> Task {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut entries = Vec::new();
    let mut ends: Vec<(usize, usize, bool)> = Vec::with_capacity(pairs.len());
    for p in pairs {
        let mut end = [0usize; 2];
        for (slot, s) in end.iter_mut().zip([p.a.as_str(), p.b.as_str()]) {
            *slot = *ids.entry(s).or_insert_with(|| {
                entries.push(s.to_string());
                entries.len() - 1
            });
        }
        ends.push((end[0], end[1], p.label));
    }
    let mut partners: HashMap<usize, HashSet<usize>> = HashMap::new();
    for &(a, b, label) in &ends {
        if label && a != b {
            partners.entry(a).or_default().insert(b);
            partners.entry(b).or_default().insert(a);
        }
    }
    let queries = ends
        .iter()
        .filter(|(a, b, label)| *label && a != b)
        .map(|&(a, b, _)| Query { text: a, own: b, any: partners[&a].clone() })
        .collect();
    Task { entries, queries }
}

/// Per query: the BM25 candidates with the scorer's margin for each.
type Scored = Vec<Vec<(usize, f64, f64)>>;

fn score_candidates(task: &Task, scorer: &ParaphraseScorer) -> Scored {
    use rayon::prelude::*;
    let index = LexicalIndex::build(&task.entries);
    task.queries
        .par_iter()
        .map(|q| {
            let query = index.document(q.text).clone();
            index
                .search(&query, CANDIDATES, &|d| d == q.text)
                .into_iter()
                .map(|hit| {
                    (hit.document, hit.normalised, scorer.score_analysed(&query, index.document(hit.document)).margin)
                })
                .collect()
        })
        .collect()
}

fn figures(task: &Task, scored: &Scored, weight: Option<f64>, own: bool) -> RankFigures {
    let (mut top1, mut rr) = (0.0, 0.0);
    for (q, candidates) in task.queries.iter().zip(scored) {
        let mut ranked: Vec<(usize, f64)> =
            candidates.iter().map(|&(d, bm25, margin)| (d, weight.map_or(bm25, |w| margin + w * bm25))).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let gold = |d: usize| if own { d == q.own } else { q.any.contains(&d) };
        if let Some(rank) = ranked.iter().take(10).position(|(d, _)| gold(*d)) {
            top1 += f64::from(u8::from(rank == 0));
            rr += 1.0 / (rank + 1) as f64;
        }
    }
    let n = task.queries.len().max(1) as f64;
    RankFigures { top1: top1 / n, mrr_10: rr / n }
}

/// The pairs and, for re-ranking, negatives mined from `mined` neighbours per sentence.
fn with_mined(pairs: &[LabelledPair], mined: usize) -> Vec<LabelledPair> {
    let mut all = pairs.to_vec();
    if mined > 0 {
        all.extend(mine_pairs(pairs, mined));
    }
    all
}

fn recall(task: &Task, scored: &Scored) -> f64 {
    let hit = task.queries.iter().zip(scored).filter(|(q, c)| c.iter().any(|(d, _, _)| q.any.contains(d))).count();
    hit as f64 / task.queries.len().max(1) as f64
}

/// Chooses the re-ranking weight on a held-out fold of the training file's
/// groups, with a scorer trained on the other folds.
fn choose_weight(pairs: &[LabelledPair], config: &ScorerConfig, mined: usize) -> Result<Option<f64>, EvalError> {
    let folds = group_folds(pairs, 5);
    let (fit, held): (Vec<_>, Vec<_>) = pairs.iter().zip(&folds).partition(|(_, f)| **f != 0);
    let fit: Vec<LabelledPair> = fit.into_iter().map(|(p, _)| p.clone()).collect();
    let held: Vec<LabelledPair> = held.into_iter().map(|(p, _)| p.clone()).collect();
    let (scorer, _) = train(&with_mined(&fit, mined), config)?;
    let held_task = task(&held);
    let scored = score_candidates(&held_task, &scorer);
    let best = WEIGHTS
        .iter()
        .map(|w| (*w, figures(&held_task, &scored, *w, false).mrr_10))
        .fold((None, f64::NEG_INFINITY), |best, (w, m)| if m > best.1 { (w, m) } else { best });
    Ok(best.0)
}

/// `mined`: BM25 neighbours per sentence mined from the training file as
/// negatives for a second scorer that re-ranks (0: the pair scorer re-ranks;
/// the report's `train` is the pair scorer's either way). On BQ, 10 raised top-1 (any) from
/// 0.1504 to 0.1576 and 30 to 0.1582, at 3.6× and 8× the time; off by
/// default (README, "Assistant").
pub fn run(train_path: &Path, test_path: &Path, mined: usize) -> Result<QmatchReport, EvalError> {
    let (train_file, test_file) = (crate::pair_file::read(train_path)?, crate::pair_file::read(test_path)?);
    let skipped_empty = [train_file.skipped_empty, test_file.skipped_empty];
    let (train_pairs, test_pairs) = (train_file.pairs, test_file.pairs);
    let config = ScorerConfig::default();
    let bm25_weight = choose_weight(&train_pairs, &config, mined)?;
    let (scorer, train_report) = train(&train_pairs, &config)?;
    let pairs = classify(&scorer, &test_pairs);
    let ranking = if mined > 0 { train(&with_mined(&train_pairs, mined), &config)?.0 } else { scorer };
    let started = Instant::now();
    let test_task = task(&test_pairs);
    let scored = score_candidates(&test_task, &ranking);
    let seconds = started.elapsed().as_secs_f64();
    let retrieval = RetrievalReport {
        entries: test_task.entries.len(),
        queries: test_task.queries.len(),
        any: figures(&test_task, &scored, bm25_weight, false),
        own: figures(&test_task, &scored, bm25_weight, true),
        bm25_any: figures(&test_task, &scored, None, false),
        bm25_own: figures(&test_task, &scored, None, true),
        candidate_recall_any: recall(&test_task, &scored),
        bm25_weight,
        queries_per_second: test_task.queries.len() as f64 / seconds.max(1e-9),
        mined_neighbours: mined,
    };
    Ok(QmatchReport { train: train_report, pairs, retrieval, skipped_empty })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_of_perfect_random_and_tied_scores() {
        assert_eq!(auc(&[(0.1, false), (0.9, true)]), 1.0);
        assert_eq!(auc(&[(0.9, false), (0.1, true)]), 0.0);
        assert_eq!(auc(&[(0.5, false), (0.5, true)]), 0.5);
    }

    #[test]
    fn the_task_excludes_nothing_but_keeps_every_partner_as_gold() {
        let p = |a: &str, b: &str, label| LabelledPair { a: a.into(), b: b.into(), label };
        let t = task(&[p("x", "y", true), p("x", "z", true), p("x", "w", false), p("q", "q", true)]);
        assert_eq!(t.entries.len(), 5);
        assert_eq!(t.queries.len(), 2);
        assert_eq!(t.queries[0].any.len(), 2);
        assert_eq!(t.queries[0].own, 1);
    }
}
