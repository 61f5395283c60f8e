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

mod english;
pub use english::is_english_word;

fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// Loads the segmentation dictionary now (a tenth of a second), so that the
/// first text analysed later does not pay for it while every other thread
/// that analyses text waits: a server calls this before it answers.
pub fn warm_up() {
    jieba();
    english::warm_up();
}

const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "for", "from", "i", "in", "is", "it", "me", "my", "need", "of", "on",
    "or", "the", "to", "want", "with", "我", "的", "了", "是", "在", "要", "想", "一", "个", "一个", "和", "有", "吗",
    "呢", "吧", "啊", "请", "需要", "想要", "买", "求",
];

/// Text after normalisation, with the span of the original text each of its
/// characters came from (so that highlights can point into the original).
#[derive(Debug, Clone, PartialEq)]
pub struct Normalised {
    pub text: String,
    /// Per character of `text`: the original's byte range.
    pub spans: Vec<(usize, usize)>,
}

/// Unicode NFKC (which also folds full-width forms: ＡＢＣ１２３ → ABC123),
/// lowercase, and traditional → simplified Chinese (臺灣 → 台湾), so that every
/// form of a word analyses to the same tokens.
pub fn normalise_mapped(original: &str) -> Normalised {
    use unicode_normalization::UnicodeNormalization;
    let mut text = String::with_capacity(original.len());
    let mut spans = Vec::with_capacity(original.len());
    let mut buf = [0u8; 4];
    for (b, c) in original.char_indices() {
        let span = (b, b + c.len_utf8());
        if c.is_ascii() {
            text.push(c.to_ascii_lowercase());
            spans.push(span);
            continue;
        }
        let c = if c == '\u{3000}' { ' ' } else { c };
        for n in c.encode_utf8(&mut buf).nfkc().flat_map(char::to_lowercase) {
            text.push(n);
            spans.push(span);
        }
    }
    // Character for character (the converter keeps the count), so spans still line up.
    Normalised { text: fast2s::convert(&text), spans }
}

/// The normalised text (see [`normalise_mapped`]).
pub fn normalise(text: &str) -> String {
    normalise_mapped(text).text
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

/// A token with its place in the original text, for indexing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanToken {
    pub text: String,
    /// Byte range in the original text.
    pub from: usize,
    pub to: usize,
    /// Position in token units (sub-words share their word's position).
    pub position: usize,
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FA1F}')
}

/// Words for the search index: jieba's precise segmentation gives positions,
/// and its search-mode sub-words (自行 and 行车 inside 自行车) are added at
/// their word's position, so both whole-word phrases and sub-word queries match.
pub fn search_words(original: &str) -> Vec<SpanToken> {
    let n = normalise_mapped(original);
    if !n.text.chars().any(is_cjk) {
        return plain_words(&n);
    }
    let span_of = |from: usize, to: usize| (n.spans[from].0, n.spans[to - 1].1);
    let precise: Vec<(usize, usize)> = jieba()
        .cut(&n.text, true)
        .into_iter()
        .filter(|t| t.word.chars().any(char::is_alphanumeric))
        .map(|t| (t.start, t.end))
        .collect();
    let mut out = Vec::with_capacity(precise.len() * 2);
    let mut word = 0;
    for t in jieba().cut_for_search(&n.text, true) {
        if !t.word.chars().any(char::is_alphanumeric) || t.end <= t.start {
            continue;
        }
        while word < precise.len() && precise[word].1 < t.end {
            word += 1;
        }
        let (from, to) = span_of(t.start, t.end);
        out.push(SpanToken {
            text: t.word.trim().to_string(),
            from,
            to,
            position: word.min(precise.len().saturating_sub(1)),
        });
    }
    out
}

/// Runs of letters and digits, for text without Chinese (no segmenter needed).
fn plain_words(n: &Normalised) -> Vec<SpanToken> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut word = String::new();
    for (i, c) in n.text.chars().chain(std::iter::once(' ')).enumerate() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
            word.push(c);
        } else if let Some(s) = start.take() {
            let position = out.len();
            out.push(SpanToken { text: std::mem::take(&mut word), from: n.spans[s].0, to: n.spans[i - 1].1, position });
        }
    }
    out
}

/// Every character of Chinese runs and their overlapping bigrams (nothing of
/// other scripts, which the word field covers): the search index's recall field. Unigrams let a question
/// match on one shared character (借 in 借款 / 借钱) where no word or bigram is
/// shared; bigrams keep the order of characters.
pub fn cjk_grams(original: &str) -> Vec<SpanToken> {
    let n = normalise_mapped(original);
    let chars: Vec<char> = n.text.chars().collect();
    let mut out = Vec::new();
    for (i, c) in chars.iter().enumerate() {
        if !is_cjk(*c) {
            continue;
        }
        out.push(SpanToken { text: c.to_string(), from: n.spans[i].0, to: n.spans[i].1, position: i });
        if chars.get(i + 1).is_some_and(|d| is_cjk(*d)) {
            let text: String = chars[i..i + 2].iter().collect();
            out.push(SpanToken { text, from: n.spans[i].0, to: n.spans[i + 1].1, position: i });
        }
    }
    out
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
    fn folds_width_case_and_traditional_forms() {
        assert_eq!(normalise("ＩＰｈｏｎｅ　１３"), "iphone 13");
        assert_eq!(tokens("ＩＰｈｏｎｅ"), tokens("iphone"));
        assert_eq!(normalise("臺灣的自行車"), "台湾的自行车");
        let n = normalise_mapped("Ａ車b");
        assert_eq!(n.text, "a车b");
        assert_eq!(n.spans, vec![(0, 3), (3, 6), (6, 7)]);
    }

    #[test]
    fn search_words_keep_sub_words_at_their_word_position() {
        let t = search_words("二手自行车出售");
        let word = |w: &str| t.iter().find(|x| x.text == w).map(|x| x.position);
        assert!(word("自行车").is_some() && word("自行车") == word("行车"), "{t:?}");
        assert!(word("出售") > word("自行车"));
        let original = "二手自行车出售";
        let whole = t.iter().find(|x| x.text == "自行车").unwrap();
        assert_eq!(&original[whole.from..whole.to], "自行车");
    }

    #[test]
    fn grams_are_chinese_characters_and_bigrams_only() {
        let g: Vec<String> = cjk_grams("待处理 iPhone 13 猫").into_iter().map(|t| t.text).collect();
        assert_eq!(g, ["待", "待处", "处", "处理", "理", "猫"]);
        let t = cjk_grams("臺灣");
        assert_eq!((t[1].text.as_str(), t[1].from, t[1].to), ("台湾", 0, 6), "spans of the original text");
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
