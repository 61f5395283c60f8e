//! Whether a word is English, by the Hunspell en_US dictionary (SCOWL, as
//! Debian ships it: `dict/README.md`) read with the `spellbook` crate.
//! Typo tolerance corrects only words this does not know, so a real word
//! that an FAQ happens not to use ("stars", "world") is never read as one
//! it does use ("start", "word").

use std::sync::OnceLock;

use spellbook::Dictionary;

const AFFIXES: &str = include_str!("../dict/en_US.aff");
const WORDS: &str = include_str!("../dict/en_US.dic");

fn dictionary() -> &'static Dictionary {
    static DICTIONARY: OnceLock<Dictionary> = OnceLock::new();
    DICTIONARY.get_or_init(|| Dictionary::new(AFFIXES, WORDS).expect("the bundled en_US dictionary parses"))
}

/// Parses the dictionary now, so the first English question does not pay for it.
pub(crate) fn warm_up() {
    dictionary();
}

/// True when `word` is an English word or a form of one, in any case: a
/// name the dictionary holds capitalised ("Chongqing", "Monday") or in
/// capitals ("NASA") counts lowercased too, since the analyser lowercases.
pub fn is_english_word(word: &str) -> bool {
    !word.is_empty() && dictionary().checker().check_lower_as_title(true).check_lower_as_upper(true).check(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_words_and_their_forms_and_not_typos() {
        for w in
            ["stars", "world", "costs", "arrives", "recommend", "Cancel", "canceled", "chongqing", "monday", "nasa"]
        {
            assert!(is_english_word(w), "{w}");
        }
        for w in ["canel", "demnad", "avialable", ""] {
            assert!(!is_english_word(w), "{w}");
        }
    }
}
