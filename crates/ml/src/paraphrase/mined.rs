//! Pairs mined from retrieval: labelled pairs teach the scorer the confusions
//! their annotators chose, not the ones BM25 makes. For every sentence with a
//! positive partner, its closest BM25 neighbours among the file's sentences
//! become negative pairs, unless the file pairs them already or a chain of
//! positive pairs joins them (likely the same question, not labelled so):
//! unlabelled neighbours are taken as different questions, the rule the
//! retrieval evaluation scores by. (Every positive neighbour is a pair the
//! file holds, so mining adds negatives only.)

use std::collections::{HashMap, HashSet};

use super::LabelledPair;
use super::retrieval::LexicalIndex;

/// The negative pairs mined from `neighbours` BM25 neighbours of each
/// sentence, without those already in `pairs` (either order).
pub fn mine_pairs(pairs: &[LabelledPair], neighbours: usize) -> Vec<LabelledPair> {
    use rayon::prelude::*;
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut texts: Vec<String> = Vec::new();
    let mut ends: Vec<(usize, usize, bool)> = Vec::with_capacity(pairs.len());
    for p in pairs {
        let mut end = [0usize; 2];
        for (slot, s) in end.iter_mut().zip([p.a.as_str(), p.b.as_str()]) {
            *slot = *ids.entry(s).or_insert_with(|| {
                texts.push(s.to_string());
                texts.len() - 1
            });
        }
        ends.push((end[0], end[1], p.label));
    }
    let mut paired: HashSet<usize> = HashSet::new();
    let mut known: HashSet<(usize, usize)> = HashSet::new();
    for &(a, b, label) in &ends {
        known.insert((a.min(b), a.max(b)));
        if label && a != b {
            paired.extend([a, b]);
        }
    }
    let component = positive_components(texts.len(), &ends);
    let index = LexicalIndex::build(&texts);
    let mut queries: Vec<usize> = paired.into_iter().collect();
    queries.sort_unstable();
    let found: Vec<(usize, usize)> = queries
        .par_iter()
        .flat_map_iter(|&q| {
            index
                .search(index.document(q), neighbours, &|d| d == q || component[d] == component[q])
                .into_iter()
                .map(move |hit| (q, hit.document))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut mined = Vec::new();
    for (a, b) in found {
        if known.insert((a.min(b), a.max(b))) {
            mined.push(LabelledPair { a: texts[a].clone(), b: texts[b].clone(), label: false });
        }
    }
    mined
}

/// Per sentence, the root of its component in the graph of positive pairs.
fn positive_components(n: usize, ends: &[(usize, usize, bool)]) -> Vec<usize> {
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut parent: Vec<usize> = (0..n).collect();
    for &(a, b, label) in ends {
        if label {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            parent[ra] = rb;
        }
    }
    (0..n).map(|x| find(&mut parent, x)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_become_pairs_labelled_by_the_file_and_known_pairs_are_not_repeated() {
        let p = |a: &str, b: &str, label| LabelledPair { a: a.into(), b: b.into(), label };
        let pairs = vec![
            p("怎么还款", "如何还款", true),
            p("如何还款", "还款方式有哪些", true),
            p("怎么借款", "借款额度是多少", false),
        ];
        let mined = mine_pairs(&pairs, 10);
        let find = |a: &str, b: &str| mined.iter().find(|m| (m.a == a && m.b == b) || (m.a == b && m.b == a));
        assert!(find("怎么还款", "如何还款").is_none(), "a known pair is not mined again");
        assert!(find("怎么还款", "还款方式有哪些").is_none(), "joined by a chain of positives: skipped");
        assert_eq!(find("怎么还款", "怎么借款").map(|m| m.label), Some(false));
        assert!(mined.iter().all(|m| m.a != m.b && !m.label));
    }
}
