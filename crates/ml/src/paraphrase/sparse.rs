//! The sparse pair features, hashed: for words, characters and bigrams, each
//! token both sentences share (`S`), each token only one has (`D`), each pair
//! of differing tokens across the two (`P`, which learns that 借 against 贷
//! is harmless while 开通 against 取消 is not), and how much differs (`E`).
//! Order-free in the sentences, like the dense features.

use super::tokens::{Analysed, Tokenisation};
use crate::classifier::fnv;

pub const SPARSE_BUCKETS_LOG2: u32 = 20;
/// Cross pairs per tokenisation: two long sentences cannot make thousands.
const MAX_CROSS_PAIRS: usize = 256;

const SPARSE_TOKENISATIONS: [Tokenisation; 3] = [Tokenisation::Words, Tokenisation::Chars, Tokenisation::Bigrams];

/// Distinct hashed buckets, sorted; every value is 1.
pub fn sparse(a: &Analysed, b: &Analysed) -> Vec<u32> {
    let mask = (1u64 << SPARSE_BUCKETS_LOG2) - 1;
    let mut out = Vec::with_capacity(256);
    let mut put = |ns: u8, parts: &[&str]| out.push((fnv(ns, parts) & mask) as u32);
    for (k, t) in SPARSE_TOKENISATIONS.iter().enumerate() {
        let ns = 10 * (k as u8 + 1);
        let (sa, sb) = (a.set(*t), b.set(*t));
        let only_a: Vec<&str> = sa.iter().filter(|x| sb.binary_search(x).is_err()).copied().collect();
        let only_b: Vec<&str> = sb.iter().filter(|x| sa.binary_search(x).is_err()).copied().collect();
        for x in sa.iter().filter(|x| sb.binary_search(x).is_ok()) {
            put(ns, &[x]);
        }
        for x in only_a.iter().chain(&only_b) {
            put(ns + 1, &[x]);
        }
        let pairs = only_a.iter().flat_map(|x| only_b.iter().map(move |y| if x < y { (x, y) } else { (y, x) }));
        for (x, y) in pairs.take(MAX_CROSS_PAIRS) {
            put(ns + 2, &[x, y]);
        }
        let empty = match (only_a.is_empty(), only_b.is_empty()) {
            (true, true) => "both",
            (true, false) | (false, true) => "one",
            (false, false) => "none",
        };
        let fewer = only_a.len().min(only_b.len()).min(3).to_string();
        put(ns + 3, &[empty, &fewer]);
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_bounded_and_distinct() {
        let (a, b) = (Analysed::of("怎么开通借款"), Analysed::of("如何取消借款"));
        let f = sparse(&a, &b);
        assert_eq!(f, sparse(&b, &a));
        assert!(f.windows(2).all(|w| w[0] < w[1]));
        assert!(f.iter().all(|&x| x < 1 << SPARSE_BUCKETS_LOG2));
        let long_a = Analysed::of(&"甲乙丙丁戊己庚辛壬癸".repeat(20));
        let long_b = Analysed::of(&"子丑寅卯辰巳午未申酉戌亥".repeat(20));
        assert!(sparse(&long_a, &long_b).len() <= 3 * (MAX_CROSS_PAIRS + 100));
    }
}
