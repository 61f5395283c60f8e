//! The analysers tantivy uses at index and query time, built on
//! `wantloop-text` so search, classification and matching agree on what a
//! token is: `wl_words` (jieba words with search-mode sub-words, English stop
//! words removed and stems taken) and `wl_bigrams` (Chinese character bigrams,
//! the recall net for sub-words segmentation missed).

use tantivy::Index;
use tantivy::tokenizer::{
    Language, RemoveLongFilter, Stemmer, StopWordFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};

pub const WORDS: &str = "wl_words";
pub const BIGRAMS: &str = "wl_bigrams";

/// Tokens computed up front from a `wantloop-text` function, then streamed.
#[derive(Clone)]
pub struct Precomputed {
    analyse: fn(&str) -> Vec<wantloop_text::SpanToken>,
}

pub struct PrecomputedStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for Precomputed {
    type TokenStream<'a> = PrecomputedStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PrecomputedStream {
        let tokens = (self.analyse)(text)
            .into_iter()
            .map(|t| Token {
                offset_from: t.from,
                offset_to: t.to,
                position: t.position,
                text: t.text,
                position_length: 1,
            })
            .collect();
        PrecomputedStream { tokens, next: 0 }
    }
}

impl TokenStream for PrecomputedStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

pub fn words_analyzer() -> TextAnalyzer {
    let mut builder = TextAnalyzer::builder(Precomputed { analyse: wantloop_text::search_words })
        .filter(RemoveLongFilter::limit(64))
        .dynamic();
    if let Some(stop) = StopWordFilter::new(Language::English) {
        builder = builder.filter_dynamic(stop);
    }
    builder.filter_dynamic(Stemmer::new(Language::English)).build()
}

pub fn bigrams_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(Precomputed { analyse: wantloop_text::cjk_grams }).filter(RemoveLongFilter::limit(64)).build()
}

/// Registers both analysers on an index (needed after every open).
pub fn register(index: &Index) {
    index.tokenizers().register(WORDS, words_analyzer());
    index.tokenizers().register(BIGRAMS, bigrams_analyzer());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(mut a: TextAnalyzer, text: &str) -> Vec<String> {
        let mut s = a.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            out.push(s.token().text.clone());
        }
        out
    }

    #[test]
    fn words_stem_english_and_drop_stop_words() {
        let t = terms(words_analyzer(), "The bikes are running fast");
        assert_eq!(t, ["bike", "run", "fast"]);
        let zh = terms(words_analyzer(), "二手自行車");
        assert!(zh.contains(&"自行车".to_string()) && zh.contains(&"行车".to_string()), "{zh:?}");
    }

    #[test]
    fn characters_and_bigrams_of_chinese() {
        assert_eq!(terms(bigrams_analyzer(), "安装简单"), ["安", "安装", "装", "装简", "简", "简单", "单"]);
    }
}
