//! The dense pair features: lengths, set overlaps plain and idf-weighted,
//! TF-IDF cosine and BM25 both ways per tokenisation, edit distance, common
//! substrings, and disagreements of negation, question word and number.
//! Every feature is symmetric in the two sentences.

use std::collections::HashMap;

use super::stats::CorpusStats;
use super::tokens::{Analysed, Tokenisation};

/// 6 length values + 13 per tokenisation + 2 edit + 6 common-substring + 6 meaning flips.
pub const DENSE_FEATURES: usize = 6 + 13 * 4 + 2 + 6 + 6;

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn lengths(out: &mut Vec<f64>, a: usize, b: usize) {
    let (lo, hi) = (a.min(b) as f64, a.max(b) as f64);
    out.extend([lo, hi, hi - lo, ratio(lo, hi)]);
}

fn overlaps(out: &mut Vec<f64>, stats: &CorpusStats, t: Tokenisation, a: &Analysed, b: &Analysed) {
    let s = stats.get(t);
    let (sa, sb) = (a.set(t), b.set(t));
    let shared: Vec<&str> = sa.iter().filter(|x| sb.binary_search(x).is_ok()).copied().collect();
    let (i, na, nb) = (shared.len() as f64, sa.len() as f64, sb.len() as f64);
    let union = na + nb - i;
    let idf_sum = |v: &[&str]| v.iter().map(|x| s.idf(x)).sum::<f64>();
    let (ii, ia, ib) = (idf_sum(&shared), idf_sum(&sa), idf_sum(&sb));
    fn tfidf<'a>(s: &super::stats::TokenStats, tokens: &'a [String]) -> HashMap<&'a str, f64> {
        let mut m: HashMap<&str, f64> = HashMap::new();
        for x in tokens {
            *m.entry(x.as_str()).or_default() += s.idf(x);
        }
        m
    }
    let (va, vb) = (tfidf(s, a.tokens(t)), tfidf(s, b.tokens(t)));
    let dot: f64 = va.iter().filter_map(|(k, x)| vb.get(k).map(|y| x * y)).sum();
    let norm = |v: &HashMap<&str, f64>| v.values().map(|x| x * x).sum::<f64>().sqrt();
    let (ab, ba) = (s.bm25(a.tokens(t), b.tokens(t)), s.bm25(b.tokens(t), a.tokens(t)));
    let (aa, bb) = (s.bm25(a.tokens(t), a.tokens(t)), s.bm25(b.tokens(t), b.tokens(t)));
    let (ra, rb) = (ratio(ab, aa), ratio(ba, bb));
    out.extend([
        i,
        ratio(i, union),
        ratio(2.0 * i, na + nb),
        ratio(i, na.min(nb)),
        ratio(i, na.max(nb)),
        ratio(ii, ia + ib - ii),
        ratio(ii, ia.min(ib)),
        ratio(ii, ia.max(ib)),
        ia + ib - 2.0 * ii,
        ratio(dot, norm(&va) * norm(&vb)),
        ab + ba,
        ra.min(rb),
        ra.max(rb),
    ]);
}

/// Longest common substring and subsequence, by dynamic programming over
/// two short sentences (callers cap their length).
fn common(a: &[char], b: &[char]) -> (usize, usize) {
    let mut substring = 0;
    let mut prev_sub = vec![0usize; b.len() + 1];
    let mut prev_seq = vec![0usize; b.len() + 1];
    let mut sub = vec![0usize; b.len() + 1];
    let mut seq = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            if x == y {
                sub[j + 1] = prev_sub[j] + 1;
                substring = substring.max(sub[j + 1]);
                seq[j + 1] = prev_seq[j] + 1;
            } else {
                sub[j + 1] = 0;
                seq[j + 1] = seq[j].max(prev_seq[j + 1]);
            }
        }
        std::mem::swap(&mut sub, &mut prev_sub);
        std::mem::swap(&mut seq, &mut prev_seq);
    }
    (substring, prev_seq[b.len()])
}

fn symmetric_difference<T: Ord>(a: &[T], b: &[T]) -> (usize, usize) {
    let shared = a.iter().filter(|x| b.contains(x)).count();
    (a.len() + b.len() - 2 * shared, shared)
}

pub fn dense(stats: &CorpusStats, a: &Analysed, b: &Analysed) -> Vec<f64> {
    let mut out = Vec::with_capacity(DENSE_FEATURES);
    lengths(&mut out, a.chars.len(), b.chars.len());
    out.extend([
        a.tokens(Tokenisation::Words).len().min(b.tokens(Tokenisation::Words).len()) as f64,
        a.tokens(Tokenisation::Words).len().max(b.tokens(Tokenisation::Words).len()) as f64,
    ]);
    for t in Tokenisation::ALL {
        overlaps(&mut out, stats, t, a, b);
    }
    let longest = a.chars.len().max(b.chars.len()) as f64;
    let shortest = a.chars.len().min(b.chars.len()) as f64;
    let edit = strsim::generic_levenshtein(&a.chars, &b.chars) as f64;
    out.extend([edit, ratio(edit, longest)]);
    let (substring, subsequence) = common(&a.chars, &b.chars);
    let (substring, subsequence) = (substring as f64, subsequence as f64);
    out.extend([
        substring,
        ratio(substring, shortest),
        ratio(substring, longest),
        subsequence,
        ratio(subsequence, shortest),
        ratio(subsequence, longest),
    ]);
    let (q_diff, q_shared) = symmetric_difference(&a.question_words, &b.question_words);
    let (n_diff, _) = symmetric_difference(&a.numbers, &b.numbers);
    out.extend([
        a.negations.abs_diff(b.negations) as f64,
        f64::from(u8::from((a.negations == 0) != (b.negations == 0))),
        q_diff as f64,
        q_shared as f64,
        n_diff as f64,
        f64::from(u8::from(!a.numbers.is_empty() && !b.numbers.is_empty() && a.numbers != b.numbers)),
    ]);
    debug_assert_eq!(out.len(), DENSE_FEATURES);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_substrings_and_symmetry() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(common(&c("abcdef"), &c("zbcdxf")), (3, 4));
        assert_eq!(common(&c(""), &c("abc")), (0, 0));
        let (a, b) = (Analysed::of("为什么不能借钱"), Analysed::of("怎么借不了钱了"));
        let stats = CorpusStats::count([&a, &b]);
        let (ab, ba) = (dense(&stats, &a, &b), dense(&stats, &b, &a));
        assert_eq!(ab.len(), DENSE_FEATURES);
        for (x, y) in ab.iter().zip(&ba) {
            assert!((x - y).abs() < 1e-9, "{ab:?} vs {ba:?}");
        }
        let same = dense(&stats, &a, &a);
        // Jaccard of characters is 1 for a sentence against itself.
        assert!((same[6 + 1] - 1.0).abs() < 1e-12);
    }
}
