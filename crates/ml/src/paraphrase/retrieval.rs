//! Lexical candidates for a question: BM25 over characters, character
//! bigrams and jieba words, summed, from inverted lists over the phrasings.
//! In memory, built at once: an FAQ has thousands of phrasings, not millions,
//! and the scorer re-ranks only the few dozen this returns.

use std::collections::HashMap;

use super::stats::CorpusStats;
use super::tokens::{Analysed, Tokenisation};
use super::typos::KnownWords;

const FIELDS: [Tokenisation; 3] = [Tokenisation::Chars, Tokenisation::Bigrams, Tokenisation::Words];
const K1: f64 = 1.5;
const B: f64 = 0.75;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retrieved {
    pub document: usize,
    pub bm25: f64,
    /// `bm25` over the query's score against itself: comparable across queries.
    pub normalised: f64,
}

pub struct LexicalIndex {
    documents: Vec<Analysed>,
    stats: CorpusStats,
    /// Per field: token → (document, term frequency).
    postings: Vec<HashMap<String, Vec<(u32, u32)>>>,
    /// The lowercase ASCII words the documents hold, for typo tolerance.
    known: KnownWords,
}

impl LexicalIndex {
    pub fn build(texts: &[String]) -> Self {
        use rayon::prelude::*;
        let documents: Vec<Analysed> = texts.par_iter().map(|t| Analysed::of(t)).collect();
        let stats = CorpusStats::count(documents.iter());
        let mut postings: Vec<HashMap<String, Vec<(u32, u32)>>> = FIELDS.iter().map(|_| HashMap::new()).collect();
        for (d, doc) in documents.iter().enumerate() {
            for (f, field) in FIELDS.iter().enumerate() {
                let mut tf: HashMap<&str, u32> = HashMap::new();
                for t in doc.tokens(*field) {
                    *tf.entry(t).or_default() += 1;
                }
                for (t, n) in tf {
                    postings[f].entry(t.to_string()).or_default().push((d as u32, n));
                }
            }
        }
        let words = FIELDS.iter().position(|f| *f == Tokenisation::Words).expect("words are a field");
        let known = KnownWords::new(postings[words].iter().map(|(w, list)| (w.as_str(), list.len())));
        LexicalIndex { documents, stats, postings, known }
    }

    pub fn len(&self) -> usize {
        self.documents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }

    pub fn document(&self, i: usize) -> &Analysed {
        &self.documents[i]
    }

    /// Share of the query's distinct words, weighted by idf, that `document`
    /// contains: how much of what a question asks an entry speaks to.
    pub fn word_coverage(&self, query: &Analysed, document: usize) -> f64 {
        let stats = self.stats.get(Tokenisation::Words);
        let have = self.documents[document].set(Tokenisation::Words);
        let (mut covered, mut all) = (0.0, 0.0);
        for w in query.set(Tokenisation::Words) {
            let idf = stats.idf(w);
            all += idf;
            if have.binary_search(&w).is_ok() {
                covered += idf;
            }
        }
        if all > 0.0 { covered / all } else { 0.0 }
    }

    /// `text` with each word no document holds and no English dictionary
    /// knows (unless `keep` names it) read as the known word it most likely
    /// misspells (see `typos.rs`); `None` when none is.
    pub fn correct_typos(&self, text: &str, keep: &dyn Fn(&str) -> bool) -> Option<String> {
        self.known.correct(text, keep)
    }

    fn self_score(&self, query: &Analysed) -> f64 {
        FIELDS.iter().map(|f| self.stats.get(*f).bm25(query.tokens(*f), query.tokens(*f))).sum()
    }

    /// The `limit` best documents, best first, skipping those `skip` names.
    pub fn search(&self, query: &Analysed, limit: usize, skip: &dyn Fn(usize) -> bool) -> Vec<Retrieved> {
        let mut scores = vec![0.0f64; self.documents.len()];
        for (f, field) in FIELDS.iter().enumerate() {
            let stats = self.stats.get(*field);
            for token in query.tokens(*field) {
                let Some(list) = self.postings[f].get(token) else { continue };
                let idf = stats.idf(token);
                for &(d, tf) in list {
                    let length = self.documents[d as usize].tokens(*field).len() as f64;
                    let norm = K1 * (1.0 - B + B * length / stats.average_length.max(1e-9));
                    let tf = f64::from(tf);
                    scores[d as usize] += idf * tf * (K1 + 1.0) / (tf + norm);
                }
            }
        }
        let mut hits: Vec<(usize, f64)> =
            scores.into_iter().enumerate().filter(|&(d, s)| s > 0.0 && !skip(d)).collect();
        let by_score = |a: &(usize, f64), b: &(usize, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if hits.len() > limit && limit > 0 {
            hits.select_nth_unstable_by(limit - 1, by_score);
            hits.truncate(limit);
        }
        hits.truncate(limit);
        hits.sort_by(by_score);
        let own = self.self_score(query).max(1e-9);
        hits.into_iter().map(|(document, bm25)| Retrieved { document, bm25, normalised: bm25 / own }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_closest_phrasing_first_and_respects_skip_and_limit() {
        let texts: Vec<String> =
            ["怎么发布需求", "如何取消匹配", "发布一个需求要多久", "what happens if I reject a match"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let index = LexicalIndex::build(&texts);
        let hits = index.search(&Analysed::of("我想发布需求，怎么做"), 10, &|_| false);
        assert_eq!(hits[0].document, 0);
        assert!(hits.iter().all(|h| h.document != 3));
        let skipped = index.search(&Analysed::of("怎么发布需求"), 1, &|d| d == 0);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].document, 2);
        let english = index.search(&Analysed::of("reject a match?"), 10, &|_| false);
        assert_eq!(english[0].document, 3);
        assert!(english[0].normalised > 0.5);
        let q = Analysed::of("what if I reject a match");
        assert!(index.word_coverage(&q, 3) > 0.8 && index.word_coverage(&q, 0) == 0.0);
    }
}
