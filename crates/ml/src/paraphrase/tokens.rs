//! One sentence analysed the ways the pair features compare it: characters,
//! overlapping character bigrams and trigrams, jieba words, and the few
//! signals that flip a question's meaning (negations, question words, numbers).

/// The tokenisations compared, in the order of the dense feature blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tokenisation {
    Chars,
    Bigrams,
    Trigrams,
    Words,
}

impl Tokenisation {
    pub const ALL: [Tokenisation; 4] = [Self::Chars, Self::Bigrams, Self::Trigrams, Self::Words];

    pub fn index(self) -> usize {
        self as usize
    }
}

const NEGATIONS: &[char] = &['不', '没', '未', '无', '别', '非', '否'];
/// English negations, as words. `n't` reaches here as `t` after a word
/// ending in `n` (the segmenter splits at the apostrophe); a `t` elsewhere
/// is not one (`T恤` is lowercased to `t` + `恤`).
const ENGLISH_NEGATIONS: &[&str] = &["not", "no", "never", "nothing", "none", "nobody", "cannot", "without"];
const QUESTION_WORDS: &[&str] = &[
    "怎么",
    "为什么",
    "什么",
    "多少",
    "哪",
    "吗",
    "能否",
    "可以",
    "能不能",
    "几",
    "如何",
    "是否",
    "为何",
    "啥",
    "咋",
    "怎样",
    "how",
    "why",
    "what",
    "when",
    "where",
    "which",
    "who",
    "can",
    "does",
];
const NUMERALS: &str = "0123456789一二三四五六七八九十百千万两";

#[derive(Debug, Clone, PartialEq)]
pub struct Analysed {
    /// Normalised letters and digits, punctuation and spaces dropped.
    pub chars: Vec<char>,
    /// Tokens per [`Tokenisation`], in text order (repeats kept).
    pub tokens: [Vec<String>; 4],
    pub negations: usize,
    /// Indices into the question-word list.
    pub question_words: Vec<usize>,
    pub numbers: Vec<String>,
}

impl Analysed {
    pub fn of(text: &str) -> Self {
        let normalised = wantloop_text::normalise(text);
        let chars: Vec<char> = normalised.chars().filter(|c| c.is_alphanumeric()).collect();
        let grams = |n: usize| -> Vec<String> {
            if chars.is_empty() {
                Vec::new()
            } else if chars.len() < n {
                vec![chars.iter().collect()]
            } else {
                chars.windows(n).map(|w| w.iter().collect()).collect()
            }
        };
        let tokens = [grams(1), grams(2), grams(3), wantloop_text::words(text)];
        let compact: String = chars.iter().collect();
        let words = &tokens[Tokenisation::Words.index()];
        // Chinese has no spaces to match at, so its question words are found
        // in the text; English ones only as whole words ("show" holds "how").
        let asks = |q: &str| {
            if q.is_ascii() { words.iter().any(|w| w == q) } else { compact.contains(q) }
        };
        let question_words = QUESTION_WORDS.iter().enumerate().filter(|(_, q)| asks(q)).map(|(i, _)| i).collect();
        let contracted = words.windows(2).filter(|w| w[1] == "t" && w[0].ends_with('n')).count();
        let english_negations = words.iter().filter(|w| ENGLISH_NEGATIONS.contains(&w.as_str())).count() + contracted;
        let mut numbers = Vec::new();
        let mut run = String::new();
        for c in chars.iter().chain(std::iter::once(&' ')) {
            if NUMERALS.contains(*c) {
                run.push(*c);
            } else if !run.is_empty() {
                numbers.push(std::mem::take(&mut run));
            }
        }
        numbers.sort();
        numbers.dedup();
        Analysed {
            negations: chars.iter().filter(|c| NEGATIONS.contains(c)).count() + english_negations,
            chars,
            tokens,
            question_words,
            numbers,
        }
    }

    pub fn tokens(&self, t: Tokenisation) -> &[String] {
        &self.tokens[t.index()]
    }

    /// The distinct tokens, sorted.
    pub fn set(&self, t: Tokenisation) -> Vec<&str> {
        let mut v: Vec<&str> = self.tokens(t).iter().map(String::as_str).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyses_chinese_questions() {
        let a = Analysed::of("为什么我不能借3千？");
        assert_eq!(a.chars.iter().collect::<String>(), "为什么我不能借3千");
        assert_eq!(a.tokens(Tokenisation::Bigrams)[0], "为什");
        assert_eq!(a.tokens(Tokenisation::Trigrams).len(), a.chars.len() - 2);
        assert_eq!(a.negations, 1);
        assert_eq!(a.numbers, vec!["3千".to_string()]);
        assert!(a.question_words.iter().any(|&i| QUESTION_WORDS[i] == "为什么"));
        let short = Analysed::of("嗯");
        assert_eq!(short.tokens(Tokenisation::Trigrams), ["嗯"]);
        assert!(Analysed::of("？！").tokens(Tokenisation::Chars).is_empty());
    }

    #[test]
    fn english_questions_are_read_by_their_words() {
        let how = Analysed::of("How can't I show my offers?");
        let asked: Vec<&str> = how.question_words.iter().map(|&i| QUESTION_WORDS[i]).collect();
        assert_eq!(asked, ["how", "can"]);
        assert_eq!(how.negations, 1);
        let shown = Analysed::of("Show my scanned offers, not the others");
        assert!(shown.question_words.is_empty(), "{:?}", shown.question_words);
        assert_eq!(shown.negations, 1);
        assert_eq!(Analysed::of("I never got nothing").negations, 2);
        assert_eq!(Analysed::of("Why don't I see it").negations, 1);
        assert_eq!(Analysed::of("T恤怎么退").negations, 0, "a T-shirt is not a negation");
    }
}
