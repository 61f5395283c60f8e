//! Synonyms: groups of phrases that mean the same (`自行车, 单车, bike`) and
//! one-way rules (`山地车 => 自行车, bike`), in the synonyms-file format of
//! Solr and Elasticsearch, so operators can bring theirs. They apply when a
//! query is built, not when a document is indexed: each rule whose left side
//! occurs in a text adds the terms of its other phrases, which share
//! [`EXPANSION_WEIGHT`] of the weight the matched phrase has in the literal
//! query (a synonym counts half as much as the words it stands for, so a
//! literal match ranks first, whatever the scripts), and a changed list
//! applies at once, without reindexing.
//! Chinese phrases match anywhere in a text (it has no spaces to respect);
//! others match as whole words, ignoring case and a plural `s`.

use std::collections::HashSet;

/// Weight of an expansion relative to the phrase it stands for.
pub const EXPANSION_WEIGHT: f32 = 0.5;
/// Most phrases one text expands to: bounds a query's terms whatever the list.
pub const MAX_EXPANSIONS: usize = 12;
/// Longest phrase and most phrases per rule, most rules: a list is bounded.
pub const MAX_PHRASE_CHARS: usize = 64;
pub const MAX_PHRASES_PER_RULE: usize = 32;
pub const MAX_RULES: usize = 10_000;

/// The dictionary shipped for the demo market's categories, in both languages.
pub const BUNDLED: &str = include_str!("../synonyms/bilingual.txt");

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("synonyms line {line}: {why}")]
pub struct SynonymError {
    pub line: usize,
    pub why: String,
}

/// A phrase as it is matched: its normalised text, and its words when it is
/// not Chinese.
#[derive(Debug, Clone, PartialEq)]
struct Phrase {
    text: String,
    words: Option<Vec<String>>,
}

impl Phrase {
    fn new(raw: &str) -> Self {
        let text = wantloop_text::normalise(raw.trim());
        let words = (!text.chars().any(is_cjk)).then(|| latin_words(&text));
        Self { text, words }
    }

    fn occurs_in(&self, text: &str, words: &[String]) -> bool {
        match &self.words {
            None => text.contains(&self.text),
            Some(w) if w.is_empty() => false,
            Some(w) => words.windows(w.len()).any(|run| run == w.as_slice()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    from: Vec<Phrase>,
    to: Vec<Phrase>,
    /// `Some("zh")`/`Some("en")`: only for texts in that language (a text
    /// with Chinese characters is Chinese); `None`: for every text.
    lang: Option<&'static str>,
}

/// The language a text is read in for language-tagged rules.
fn language(text: &str) -> &'static str {
    if text.chars().any(is_cjk) { "zh" } else { "en" }
}

/// A parsed synonyms list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Synonyms {
    rules: Vec<Rule>,
    /// Every word of every non-Chinese phrase (plural `s` folded).
    words: HashSet<String>,
}

impl Synonyms {
    /// No synonyms: texts are taken literally.
    pub fn none() -> Self {
        Self::default()
    }

    /// The shipped bilingual dictionary.
    pub fn bundled() -> Self {
        Self::parse(BUNDLED).expect("the bundled synonyms parse")
    }

    /// Reads a synonyms file: one rule a line, `a, b, c` (each finds the
    /// others) or `a, b => c, d` (one way), optionally after `zh:` or `en:`
    /// to apply it to texts in that language only; `#` comments and blank
    /// lines skipped. An error names the first bad line.
    pub fn parse(text: &str) -> Result<Self, SynonymError> {
        let mut rules = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = line.trim();
            let bad = |why: &str| SynonymError { line: line_no, why: why.to_string() };
            // Comments too: the list is stored as text, and PostgreSQL
            // refuses a NUL.
            if line.chars().any(|c| c.is_control() && c != '\t') {
                return Err(bad("a control character"));
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if rules.len() >= MAX_RULES {
                return Err(bad(&format!("more than {MAX_RULES} rules")));
            }
            let (lang, line) = match (line.strip_prefix("zh:"), line.strip_prefix("en:")) {
                (Some(rest), _) => (Some("zh"), rest.trim()),
                (_, Some(rest)) => (Some("en"), rest.trim()),
                _ => (None, line),
            };
            let side = |s: &str| -> Result<Vec<Phrase>, SynonymError> {
                let mut phrases = Vec::new();
                for p in s.split(',').map(str::trim) {
                    if p.is_empty() {
                        return Err(bad("an empty phrase (two commas, or one at an end)"));
                    }
                    if p.chars().count() > MAX_PHRASE_CHARS {
                        return Err(bad(&format!("a phrase longer than {MAX_PHRASE_CHARS} characters")));
                    }
                    let phrase = Phrase::new(p);
                    if phrase.text.is_empty() || phrase.words.as_ref().is_some_and(Vec::is_empty) {
                        return Err(bad(&format!("{p:?} has no letters or digits")));
                    }
                    phrases.push(phrase);
                }
                if phrases.len() > MAX_PHRASES_PER_RULE {
                    return Err(bad(&format!("more than {MAX_PHRASES_PER_RULE} phrases")));
                }
                Ok(phrases)
            };
            match line.split_once("=>") {
                Some((from, to)) => {
                    if to.contains("=>") {
                        return Err(bad("more than one =>"));
                    }
                    rules.push(Rule { from: side(from)?, to: side(to)?, lang });
                }
                None => {
                    let group = side(line)?;
                    if group.len() < 2 {
                        return Err(bad("a group needs at least two phrases (or use a => b)"));
                    }
                    rules.push(Rule { from: group.clone(), to: group, lang });
                }
            }
        }
        let words = rules
            .iter()
            .flat_map(|r| r.from.iter().chain(&r.to))
            .filter_map(|p| p.words.as_ref())
            .flatten()
            .cloned()
            .collect();
        Ok(Self { rules, words })
    }

    /// This list followed by `other`'s rules.
    pub fn and(mut self, other: &Synonyms) -> Self {
        self.rules.extend(other.rules.iter().cloned());
        self.words.extend(other.words.iter().cloned());
        self
    }

    /// Whether `word` is a word of a phrase of the list (a plural `s`
    /// ignored, as matching ignores it): typo tolerance leaves it as written.
    pub fn has_word(&self, word: &str) -> bool {
        latin_words(&wantloop_text::normalise(word)).iter().any(|w| self.words.contains(w))
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// The phrases `text` implies and does not already contain, first rules
    /// first, at most [`MAX_EXPANSIONS`].
    pub fn expansions(&self, text: &str) -> Vec<String> {
        self.expansions_from(text).into_iter().map(|(_, to)| to).collect()
    }

    /// As [`Synonyms::expansions`], each with the phrase of the text that
    /// implied it: an expansion is weighed against what it stands for.
    pub fn expansions_from(&self, text: &str) -> Vec<(String, String)> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        let text = wantloop_text::normalise(text);
        let words = latin_words(&text);
        let lang = language(&text);
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for rule in self.rules.iter().filter(|r| r.lang.is_none_or(|l| l == lang)) {
            let Some(from) = rule.from.iter().find(|p| p.occurs_in(&text, &words)) else { continue };
            for p in &rule.to {
                if out.len() >= MAX_EXPANSIONS {
                    return out;
                }
                if !p.occurs_in(&text, &words) && seen.insert(p.text.clone()) {
                    out.push((from.text.clone(), p.text.clone()));
                }
            }
        }
        out
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// The words of a normalised text outside Chinese runs, a plural `s` folded
/// (`bikes` matches `bike`, `dress` stays).
fn latin_words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-') || is_cjk(c))
        .filter(|w| !w.is_empty() && w.chars().any(char::is_alphanumeric))
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.chars().count() >= 3 && !stem.ends_with('s') => stem.to_string(),
            _ => w.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_expand_both_ways_and_one_way_rules_one_way() {
        let s = Synonyms::parse("自行车, 单车, bike\n山地车 => 自行车, mountain bike\n").unwrap();
        assert_eq!(s.expansions("想买一辆单车"), vec!["自行车", "bike"]);
        assert_eq!(s.expansions("Cheap BIKES wanted"), vec!["自行车", "单车"]);
        assert_eq!(s.expansions("求山地车"), vec!["自行车", "mountain bike"], "rules do not chain");
        assert!(s.expansions("mountain").is_empty(), "a phrase matches whole");
        assert!(s.expansions("bikeshed").is_empty(), "English matches whole words");
        assert!(s.expansions("沙发").is_empty());
        assert!(s.has_word("Bikes") && s.has_word("mountain") && !s.has_word("bicycle") && !s.has_word("单车"));
        assert!(s.clone().and(&Synonyms::parse("ebike => e-bike").unwrap()).has_word("ebikes"));
    }

    #[test]
    fn language_tagged_rules_apply_to_texts_in_their_language() {
        let s = Synonyms::parse(
            "en: bike => 自行车
zh: 单车 => 自行车
pram, stroller
zh:	童车 => 婴儿车
",
        )
        .unwrap();
        assert_eq!(s.expansions("cheap bike"), vec!["自行车"]);
        assert_eq!(s.expansions("求单车"), vec!["自行车"]);
        assert_eq!(s.expansions("一辆 bike"), Vec::<String>::new(), "a Chinese text takes no English-only rule");
        assert_eq!(s.expansions("a pram"), vec!["stroller"], "untagged rules apply to all");
        assert_eq!(s.expansions("童车"), vec!["婴儿车"]);
    }

    #[test]
    fn bad_lines_are_named() {
        let e = Synonyms::parse("# fine\na, b\n\nc,, d\n").unwrap_err();
        assert_eq!(e.line, 4);
        assert_eq!(Synonyms::parse("lonely\n").unwrap_err().line, 1);
        assert_eq!(Synonyms::parse("a => b => c\n").unwrap_err().line, 1);
        assert_eq!(Synonyms::parse("a, ,\n").unwrap_err().line, 1);
        assert_eq!(Synonyms::parse(&format!("a, {}\n", "x".repeat(65))).unwrap_err().line, 1);
        assert_eq!(Synonyms::parse("a, !!!\n").unwrap_err().line, 1);
        assert_eq!(Synonyms::parse("a, b\n# c, d\0\n").unwrap_err().line, 2);
    }

    #[test]
    fn the_bundled_dictionary_parses_and_is_bounded() {
        let s = Synonyms::bundled();
        assert!(s.len() > 50);
        assert!(
            s.expansions("自行车 单车 bike 手机 沙发 衣柜 书桌 帐篷 哑铃 婴儿车 电钻 梯子").len() <= MAX_EXPANSIONS
        );
    }
}
