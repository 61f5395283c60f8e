//! Corpus statistics the pair features weigh tokens by: document frequencies
//! per tokenisation over the training sentences, giving idf and BM25.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::tokens::{Analysed, Tokenisation};

const K1: f64 = 1.5;
const B: f64 = 0.75;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenStats {
    pub documents: u32,
    pub average_length: f64,
    pub document_frequency: HashMap<String, u32>,
}

impl TokenStats {
    pub fn idf(&self, token: &str) -> f64 {
        let df = f64::from(self.document_frequency.get(token).copied().unwrap_or(0));
        let n = f64::from(self.documents);
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// BM25 of `query`'s tokens against `document`'s.
    pub fn bm25(&self, query: &[String], document: &[String]) -> f64 {
        if document.is_empty() {
            return 0.0;
        }
        let mut tf: HashMap<&str, f64> = HashMap::new();
        for t in document {
            *tf.entry(t.as_str()).or_default() += 1.0;
        }
        let norm = K1 * (1.0 - B + B * document.len() as f64 / self.average_length.max(1e-9));
        query.iter().filter_map(|q| tf.get(q.as_str()).map(|&f| self.idf(q) * f * (K1 + 1.0) / (f + norm))).sum()
    }
}

/// Statistics of every tokenisation, in [`Tokenisation::ALL`] order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CorpusStats {
    pub per_tokenisation: Vec<TokenStats>,
}

impl CorpusStats {
    /// Counts each sentence once per occurrence (a sentence in many pairs
    /// weighs as often as it is seen, as a search engine would index it).
    pub fn count<'a>(sentences: impl IntoIterator<Item = &'a Analysed>) -> Self {
        let mut per: Vec<TokenStats> = Tokenisation::ALL.iter().map(|_| TokenStats::default()).collect();
        let mut lengths = [0usize; 4];
        for s in sentences {
            for t in Tokenisation::ALL {
                let stats = &mut per[t.index()];
                stats.documents += 1;
                lengths[t.index()] += s.tokens(t).len();
                for token in s.set(t) {
                    *stats.document_frequency.entry(token.to_string()).or_default() += 1;
                }
            }
        }
        for (stats, length) in per.iter_mut().zip(lengths) {
            stats.average_length = length as f64 / f64::from(stats.documents.max(1));
        }
        CorpusStats { per_tokenisation: per }
    }

    pub fn get(&self, t: Tokenisation) -> &TokenStats {
        &self.per_tokenisation[t.index()]
    }
}
