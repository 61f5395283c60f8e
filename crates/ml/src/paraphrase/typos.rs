//! Typo tolerance for English questions: a word of five letters or more
//! that no document holds and that is no English word (the bundled Hunspell
//! dictionary, `wantloop_text::is_english_word`: a real word the documents
//! happen not to use is not a typo) is read as the known word closest to
//! it, within one edit for five to eight letters and two from nine
//! (Meilisearch's length thresholds; an adjacent swap counts as one edit,
//! and unlike Meilisearch so does an edit of the first letter).
//! A word is read only as a word the dictionary knows or two documents hold,
//! so one document's own typo never becomes the reading of another.
//! Chinese is left alone: its typos are other characters of the same sound,
//! which edit distance does not find.
//!
//! Hand-written: the known words are an FAQ's (thousands, in memory), so a
//! bounded scan of the words of a near length is fast enough, and a crate's
//! automaton or deletion index (`fst`, `symspell`) would add a dependency
//! to save microseconds.

use std::collections::HashMap;

/// Words looked up per question at most, and words compared with in all:
/// a long question of nonsense costs milliseconds, not a scan per word of
/// a large FAQ.
const MAX_LOOKED_UP: usize = 16;
const MAX_COMPARED: usize = 50_000;

/// The edits a word of `len` letters may be read through.
fn tolerance(len: usize) -> usize {
    match len {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// A known word and how many documents hold it.
#[derive(Debug, Clone)]
struct Known {
    word: String,
    documents: usize,
}

impl Known {
    /// Whether a typo may be read as this word: an English word, or one two
    /// documents hold (asked only of the few within reach of a typo).
    fn is_target(&self) -> bool {
        self.documents >= 2 || wantloop_text::is_english_word(&self.word)
    }
}

/// The lowercase ASCII words documents hold, by length.
#[derive(Debug, Default, Clone)]
pub struct KnownWords {
    by_length: HashMap<usize, Vec<Known>>,
}

impl KnownWords {
    /// From tokens and the number of documents that hold each; only
    /// lowercase ASCII words are kept (the analyser lowercases).
    pub fn new<'a>(words: impl IntoIterator<Item = (&'a str, usize)>) -> Self {
        let mut by_length: HashMap<usize, Vec<Known>> = HashMap::new();
        for (w, documents) in words {
            if !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()) {
                by_length.entry(w.len()).or_default().push(Known { word: w.to_string(), documents });
            }
        }
        for words in by_length.values_mut() {
            words.sort_by(|a, b| a.word.cmp(&b.word));
        }
        KnownWords { by_length }
    }

    fn knows(&self, word: &str) -> bool {
        self.by_length.get(&word.len()).is_some_and(|ws| ws.binary_search_by(|k| k.word.as_str().cmp(word)).is_ok())
    }

    /// The known word a lowercase ASCII `word` most likely misspells (fewest
    /// edits, then held by more documents); `None` when it is known itself,
    /// or when comparing with every word of a near length would overspend
    /// `budget` (a partial scan could pick a worse word), which is then spent.
    fn correction(&self, word: &str, budget: &mut usize) -> Option<&str> {
        debug_assert!(word.bytes().all(|b| b.is_ascii_lowercase()));
        let limit = tolerance(word.len());
        if limit == 0 || self.knows(word) {
            return None;
        }
        let near = || (word.len().saturating_sub(limit)..=word.len() + limit).filter_map(|l| self.by_length.get(&l));
        let cost: usize = near().map(Vec::len).sum();
        if cost > *budget {
            *budget = 0;
            return None;
        }
        *budget -= cost;
        let mut best: Option<(usize, usize, &str)> = None;
        for k in near().flatten() {
            let d = strsim::osa_distance(word, &k.word);
            let key = (d, std::cmp::Reverse(k.documents), k.word.as_str());
            if d <= limit && best.is_none_or(|(bd, bn, bw)| key < (bd, std::cmp::Reverse(bn), bw)) && k.is_target() {
                best = Some((d, k.documents, &k.word));
            }
        }
        best.map(|(_, _, w)| w)
    }

    /// `text` with its misspelt words (all ASCII letters, unknown here, not
    /// English, and not one `keep` names) replaced by their corrections,
    /// lowercased; the rest as written. Words are runs of letters and digits,
    /// as the analyser splits them. `None` when no word changes.
    pub fn correct(&self, text: &str, keep: &dyn Fn(&str) -> bool) -> Option<String> {
        if self.by_length.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let (mut changed, mut looked_up, mut budget, mut rest) = (false, 0, MAX_COMPARED, text);
        while let Some(start) = rest.find(char::is_alphanumeric) {
            out.push_str(&rest[..start]);
            let run = &rest[start..];
            let end = run.find(|c: char| !c.is_alphanumeric()).unwrap_or(run.len());
            let word = &run[..end];
            let lower = word.to_ascii_lowercase();
            let fixed = if word.bytes().all(|b| b.is_ascii_alphabetic())
                && tolerance(word.len()) > 0
                && looked_up < MAX_LOOKED_UP
                && !self.knows(&lower)
                && !keep(&lower)
                && !wantloop_text::is_english_word(&lower)
            {
                looked_up += 1;
                self.correction(&lower, &mut budget)
            } else {
                None
            };
            match fixed {
                Some(w) => {
                    out.push_str(w);
                    changed = true;
                }
                None => out.push_str(word),
            }
            rest = &run[end..];
        }
        out.push_str(rest);
        changed.then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> KnownWords {
        KnownWords::new([
            ("cancel", 3),
            ("demand", 5),
            ("request", 2),
            ("provider", 2),
            ("available", 1),
            ("stats", 4),
            ("start", 1),
            ("canel", 1),
            ("wantlop", 1),
            ("frobnik", 2),
            ("chongking", 2),
        ])
    }

    fn correction(k: &KnownWords, w: &str) -> Option<String> {
        k.correction(w, &mut MAX_COMPARED.clone()).map(str::to_string)
    }

    #[test]
    fn reads_unknown_words_as_the_closest_known_one_within_the_tolerance() {
        let k = known();
        let read = |w: &str| correction(&k, w);
        assert_eq!(read("dmeand").as_deref(), Some("demand"), "an adjacent swap is one edit");
        assert_eq!(read("avialabel").as_deref(), Some("available"), "nine letters allow two edits");
        assert_eq!(read("prowidez"), None, "two edits are too many for eight letters");
        assert_eq!(read("demand"), None, "known words stay");
        assert_eq!(read("stast").as_deref(), Some("stats"), "a tie goes to the word more documents hold");
        assert_eq!(read("canell"), None, "never to one document's own typo (canel)");
        assert_eq!(read("wantlopp"), None, "nor to a word of one document that is no English word");
        assert_eq!(read("frobnick").as_deref(), Some("frobnik"), "but to one two documents hold");
        assert_eq!(k.correction("dmeand", &mut 0), None, "nothing compared past the budget");
        let mut short = 2;
        assert_eq!(k.correction("dmeand", &mut short), None, "no partial scan");
        assert_eq!(short, 0);
    }

    #[test]
    fn corrects_a_question_in_place_and_leaves_the_rest_as_written() {
        let k = known();
        let none = |_: &str| false;
        assert_eq!(k.correct("How do I cancl my Dmeand?", &none).as_deref(), Some("How do I cancel my demand?"));
        assert_eq!(k.correct("How do I cancel?", &none), None);
        assert_eq!(k.correct("how do I give 5 stars", &none), None, "a real word is no typo, known here or not");
        assert_eq!(k.correct("trip to Chongqing", &none), None, "nor a name the dictionary holds");
        assert_eq!(k.correct("my dmeand15 or Dmeandé", &none), None, "only words of ASCII letters alone");
        assert_eq!(k.correct("cancl", &|w| w == "cancl"), None, "words the caller keeps stay");
        assert_eq!(KnownWords::default().correct("cancl", &none), None);
    }
}
