//! Text analysis shared by matching (and, later, search, classification and Q&A):
//! case folding, full-width → half-width folding, Chinese word segmentation with
//! jieba (search mode, so 自行车 also yields 自行/行车), Unicode word splitting for
//! other scripts, and a small bilingual stop-word list.
//!
//! Architecture invariant: the same function analyses indexed text and queries, so
//! both sides always agree on what a token is.

use std::collections::HashSet;
use std::sync::OnceLock;

use jieba_rs::Jieba;

fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "for", "from", "i", "in", "is", "it", "me", "my", "need", "of", "on",
    "or", "the", "to", "want", "with", "我", "的", "了", "是", "在", "要", "想", "一", "个", "一个", "和", "有", "吗",
    "呢", "吧", "啊", "请", "需要", "想要", "买", "求",
];

/// Folds full-width ASCII forms (ＡＢＣ１２３) to their half-width twins and
/// lowercases, so that mixed-width input tokenises the same way.
pub fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Analyses text into tokens: normalised, segmented, stop words and punctuation removed.
pub fn tokens(text: &str) -> Vec<String> {
    let norm = normalise(text);
    jieba()
        .cut_for_search(&norm, true)
        .into_iter()
        .map(|t| t.word.trim())
        .filter(|t| !t.is_empty() && t.chars().any(char::is_alphanumeric))
        .filter(|t| !STOPWORDS.contains(t))
        .map(str::to_string)
        .collect()
}

/// Words in precise segmentation order, normalised, punctuation dropped, stop
/// words kept: the input of classifiers, which learn what a word is worth.
pub fn words(text: &str) -> Vec<String> {
    let norm = normalise(text);
    jieba()
        .cut(&norm, true)
        .into_iter()
        .map(|t| t.word.trim())
        .filter(|t| !t.is_empty() && t.chars().any(char::is_alphanumeric))
        .map(str::to_string)
        .collect()
}

/// The distinct tokens of a text.
pub fn token_set(text: &str) -> HashSet<String> {
    tokens(text).into_iter().collect()
}

/// Share of the query's distinct tokens found in the document, in [0, 1]. A
/// transparent text-relevance feature until the search index supplies BM25.
pub fn overlap(query: &HashSet<String>, document: &HashSet<String>) -> f64 {
    if query.is_empty() {
        return 0.0;
    }
    query.intersection(document).count() as f64 / query.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_chinese_and_drops_stopwords() {
        let t = tokens("想买一台二手自行车，在杭州");
        assert!(t.contains(&"自行车".to_string()), "{t:?}");
        assert!(t.contains(&"杭州".to_string()), "{t:?}");
        assert!(!t.contains(&"想".to_string()));
        assert!(!t.iter().any(|x| x == "，"));
    }

    #[test]
    fn folds_width_and_case() {
        assert_eq!(normalise("ＩＰｈｏｎｅ　１３"), "iphone 13");
        assert_eq!(tokens("ＩＰｈｏｎｅ"), tokens("iphone"));
    }

    #[test]
    fn english_words_and_overlap() {
        let q = token_set("need a maths tutor on weekends");
        let d = token_set("Experienced maths tutor, weekends and evenings");
        assert!(q.contains("maths") && !q.contains("a"));
        let o = overlap(&q, &d);
        assert!((o - 1.0).abs() < 1e-9, "{o} {q:?}");
        assert_eq!(overlap(&q, &token_set("二手沙发")), 0.0);
    }
}
