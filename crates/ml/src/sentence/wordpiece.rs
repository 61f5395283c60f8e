//! BERT's uncased WordPiece tokenizer, as MiniLM was trained with it
//! (`BertTokenizer` with `do_lower_case`): control characters dropped,
//! Chinese characters and punctuation split off as words of their own,
//! words lowercased without their accents, then each word cut greedily into
//! the longest vocabulary pieces (`##` continues a word; a word that cannot
//! be cut is `[UNK]`).
//!
//! Written here rather than taking the `tokenizers` crate: that brings a
//! regex engine, a parallel runtime and every other model family's
//! tokenizer for what is one greedy loop over a hash map.

use std::collections::HashMap;

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;

/// BERT's limit: a longer word is `[UNK]`.
const MAX_WORD_CHARS: usize = 100;

pub(crate) struct WordPiece {
    ids: HashMap<String, u32>,
    unknown: u32,
    start: u32,
    end: u32,
}

impl WordPiece {
    /// `vocab.txt`: one piece a line, its id the line's number.
    pub(crate) fn parse(vocab: &str) -> Result<Self, String> {
        let ids: HashMap<String, u32> = vocab.lines().enumerate().map(|(i, t)| (t.to_string(), i as u32)).collect();
        let id = |t: &str| ids.get(t).copied().ok_or_else(|| format!("the vocabulary has no {t}"));
        Ok(Self { unknown: id("[UNK]")?, start: id("[CLS]")?, end: id("[SEP]")?, ids })
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// `[CLS]`, the text's pieces, `[SEP]`: at most `max` ids.
    pub(crate) fn encode(&self, text: &str, max: usize) -> Vec<u32> {
        let mut out = vec![self.start];
        for word in words(text) {
            self.pieces(&word, &mut out);
            if out.len() >= max - 1 {
                out.truncate(max - 1);
                break;
            }
        }
        out.push(self.end);
        out
    }

    /// The word's longest-first pieces, or `[UNK]` when some part has none.
    fn pieces(&self, word: &str, out: &mut Vec<u32>) {
        let bounds: Vec<usize> = word.char_indices().map(|(i, _)| i).chain([word.len()]).collect();
        let chars = bounds.len() - 1;
        if chars > MAX_WORD_CHARS {
            out.push(self.unknown);
            return;
        }
        let mut found = Vec::new();
        let mut start = 0;
        while start < chars {
            let mut end = chars;
            let hit = loop {
                if end == start {
                    break None;
                }
                let piece = &word[bounds[start]..bounds[end]];
                let id = if start == 0 { self.ids.get(piece) } else { self.ids.get(&format!("##{piece}")) };
                if let Some(&id) = id {
                    break Some(id);
                }
                end -= 1;
            };
            match hit {
                Some(id) => {
                    found.push(id);
                    start = end;
                }
                None => {
                    out.push(self.unknown);
                    return;
                }
            }
        }
        out.extend(found);
    }
}

/// BERT's basic tokenizer: the text's words, lowercased and without
/// accents, each punctuation mark and Chinese character a word of its own.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let plain: String =
        text.to_lowercase().nfd().filter(|c| get_general_category(*c) != GeneralCategory::NonspacingMark).collect();
    for c in plain.chars() {
        let dropped = c == '\0' || c == '\u{fffd}' || (is_control(c) && !matches!(c, '\t' | '\n' | '\r'));
        if dropped {
            continue;
        }
        if is_space(c) || is_punctuation(c) || is_chinese(c) {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            if !is_space(c) {
                words.push(c.to_string());
            }
            continue;
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// BERT's spaces, and what Python's `split` and the fast tokenizer also
/// split at (line and paragraph separators).
fn is_space(c: char) -> bool {
    c.is_whitespace() || get_general_category(c) == GeneralCategory::SpaceSeparator
}

/// BERT drops every character of the `C` categories (tab and newlines are spaces).
fn is_control(c: char) -> bool {
    use GeneralCategory::*;
    matches!(get_general_category(c), Control | Format | PrivateUse | Surrogate | Unassigned)
}

/// ASCII's non-alphanumeric symbols count as punctuation, as in BERT.
fn is_punctuation(c: char) -> bool {
    use GeneralCategory::*;
    c.is_ascii_punctuation()
        || matches!(
            get_general_category(c),
            ConnectorPunctuation
                | DashPunctuation
                | OpenPunctuation
                | ClosePunctuation
                | InitialPunctuation
                | FinalPunctuation
                | OtherPunctuation
        )
}

/// The CJK ideograph blocks BERT splits character by character.
fn is_chinese(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> WordPiece {
        let pieces = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "how", "do", "i", "give", "un", "##aff", "##able", "?", "cafe", "好",
            ",", "a", "##a",
        ];
        WordPiece::parse(&pieces.join("\n")).unwrap()
    }

    #[test]
    fn words_are_lowercased_unaccented_and_split_at_punctuation_and_chinese_characters() {
        assert_eq!(words("How do I GIVE?"), ["how", "do", "i", "give", "?"]);
        assert_eq!(words("Café,好吗\u{200b}"), ["cafe", ",", "好", "吗"]);
        assert_eq!(words("a\u{3000}b-c\u{2028}d\u{e000}e\u{b}f\tg"), ["a", "b", "-", "c", "def", "g"]);
    }

    #[test]
    fn words_are_cut_into_the_longest_pieces_and_unknown_ones_are_unk() {
        let v = vocab();
        assert_eq!(v.encode("How do I give?", 256), [2, 4, 5, 6, 7, 11, 3]);
        // un + ##aff + ##able; "unx" cannot be finished, so the whole word is [UNK].
        assert_eq!(v.encode("Unaffable unx", 256), [2, 8, 9, 10, 1, 3]);
        assert_eq!(v.encode("café, 好", 256), [2, 12, 14, 13, 3]);
    }

    #[test]
    fn long_text_is_cut_to_the_limit_with_its_end_marker() {
        let v = vocab();
        let ids = v.encode(&"how ".repeat(500), 8);
        assert_eq!(ids, [2, 4, 4, 4, 4, 4, 4, 3]);
        // A word of 100 characters is cut into pieces; of 101, it is [UNK].
        assert_eq!(v.encode(&"a".repeat(100), 256).len(), 102);
        assert_eq!(v.encode(&"a".repeat(101), 8), [2, 1, 3]);
    }
}
