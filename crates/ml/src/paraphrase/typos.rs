//! Typo tolerance for English questions: a word of five letters or more
//! that no document holds and that is no English word (the bundled Hunspell
//! dictionary, `wantloop_text::is_english_word`: a real word the documents
//! happen not to use is not a typo) is read as the known word closest to it, within
//! one edit for five to eight letters and two from nine, the tolerances
//! Meilisearch and Typesense apply by default (an adjacent swap counts as
//! one edit). Chinese is left alone: its typos are other characters with
//! the same sound, which edit distance does not find.
//!
//! Hand-written: the known words are an FAQ's (thousands, in memory), so a
//! scan of the words of a near length is fast enough, and a crate's
//! automaton or deletion index (`fst`, `symspell`) would add a dependency
//! to save microseconds.

use std::collections::HashMap;

/// Words corrected per question at most: bounds a long question's work.
const MAX_CORRECTED: usize = 16;

/// The edits a word of `len` letters may be read through.
fn tolerance(len: usize) -> usize {
    match len {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// Known English words by their length, each with the number of
/// documents that hold it (a tie between two corrections goes to the
/// commoner word).
#[derive(Debug, Default, Clone)]
pub struct KnownWords {
    by_length: HashMap<usize, Vec<(String, usize)>>,
}

impl KnownWords {
    /// From words and their document counts; only lowercase ASCII words are
    /// kept (the analyser lowercases).
    pub fn new<'a>(words: impl IntoIterator<Item = (&'a str, usize)>) -> Self {
        let mut by_length: HashMap<usize, Vec<(String, usize)>> = HashMap::new();
        for (w, df) in words {
            if !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()) {
                by_length.entry(w.len()).or_default().push((w.to_string(), df));
            }
        }
        for words in by_length.values_mut() {
            words.sort();
        }
        KnownWords { by_length }
    }

    fn knows(&self, word: &str) -> bool {
        self.by_length.get(&word.len()).is_some_and(|ws| ws.binary_search_by(|(w, _)| w.as_str().cmp(word)).is_ok())
    }

    /// The known word `word` most likely meant, if it is not known itself.
    pub fn correction(&self, word: &str) -> Option<&str> {
        let limit = tolerance(word.len());
        if limit == 0 || self.knows(word) {
            return None;
        }
        let lengths = word.len().saturating_sub(limit)..=word.len() + limit;
        let mut best: Option<(usize, usize, &str)> = None;
        for (w, df) in lengths.filter_map(|l| self.by_length.get(&l)).flatten() {
            let d = strsim::osa_distance(word, w);
            let better = match best {
                None => true,
                Some((bd, bdf, bw)) => (d, std::cmp::Reverse(*df), w.as_str()) < (bd, std::cmp::Reverse(bdf), bw),
            };
            if d <= limit && better {
                best = Some((d, *df, w));
            }
        }
        best.map(|(_, _, w)| w)
    }

    /// `text` with its misspelt words (unknown here, and not English)
    /// replaced by their corrections
    /// (lowercased where replaced, the rest as written); `None` when no
    /// word changes.
    pub fn correct(&self, text: &str) -> Option<String> {
        if self.by_length.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let (mut changed, mut tried, mut rest) = (false, 0, text);
        while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic()) {
            out.push_str(&rest[..start]);
            let run = &rest[start..];
            let end = run.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(run.len());
            let word = &run[..end];
            let lower = word.to_ascii_lowercase();
            let fixed = if tolerance(lower.len()) > 0
                && tried < MAX_CORRECTED
                && !self.knows(&lower)
                && !wantloop_text::is_english_word(&lower)
            {
                tried += 1;
                self.correction(&lower)
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
            ("stats", 1),
            ("start", 4),
        ])
    }

    #[test]
    fn reads_unknown_words_as_the_closest_known_one_within_the_tolerance() {
        let k = known();
        assert_eq!(k.correction("canel"), Some("cancel"), "a dropped letter");
        assert_eq!(k.correction("dmeand"), Some("demand"), "an adjacent swap is one edit");
        assert_eq!(k.correction("avialabel"), Some("available"), "nine letters allow two edits");
        assert_eq!(k.correction("cancel"), None, "known words stay");
        assert_eq!(k.correction("cnl"), None, "short words are never corrected");
        assert_eq!(k.correction("canelled"), None, "two edits are too many for eight letters");
        assert_eq!(k.correction("stars"), Some("start"), "a tie goes to the commoner word");
        assert_eq!(k.correction("weather"), None);
    }

    #[test]
    fn corrects_a_question_in_place_and_leaves_the_rest_as_written() {
        let k = known();
        assert_eq!(k.correct("How do I canel my Dmeand?").as_deref(), Some("How do I cancel my demand?"));
        assert_eq!(k.correct("How do I cancel?"), None);
        assert_eq!(k.correct("how do I give 5 stars"), None, "a real word is no typo, known here or not");
        assert_eq!(k.correct("怎么取消 canel 需求"), Some("怎么取消 cancel 需求".to_string()));
        assert_eq!(KnownWords::default().correct("canel"), None);
    }
}
