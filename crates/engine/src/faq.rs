//! The assistant's FAQ: entries checked (bounded sizes, a known language),
//! imported and managed by operators, stored with a `faq.changed` event that
//! tells every node's assistant to reload them (`ask.rs`).

use std::collections::HashSet;

use wantloop_core::ValidationError;
use wantloop_store::{FaqEntry, NewFaqEntry};

use crate::faq_file::{LineError, parse_faq};
use crate::{Engine, EngineError};

/// Most entries an FAQ may hold (each node keeps all of them in memory).
pub const MAX_FAQ_ENTRIES: usize = 10_000;
pub(crate) const MAX_PHRASINGS: usize = 20;
pub(crate) const MAX_PHRASING_CHARS: usize = 300;
const MAX_ANSWER_CHARS: usize = 4_000;
const MAX_KEY_CHARS: usize = 80;
pub const LANGUAGES: [&str; 2] = ["zh", "en"];

/// Checks one entry and trims its texts.
pub fn check_entry(mut e: NewFaqEntry) -> Result<NewFaqEntry, ValidationError> {
    e.key = e.key.trim().to_string();
    let key_ok = !e.key.is_empty()
        && e.key.chars().count() <= MAX_KEY_CHARS
        && e.key.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !key_ok {
        return Err(ValidationError::one("entry", format!("1 to {MAX_KEY_CHARS} letters, digits, '-', '_' or '.'")));
    }
    e.lang = e.lang.trim().to_ascii_lowercase();
    if !LANGUAGES.contains(&e.lang.as_str()) {
        return Err(ValidationError::one("lang", format!("{:?} is not one of zh, en", e.lang)));
    }
    e.questions = e.questions.iter().map(|q| q.trim().to_string()).filter(|q| !q.is_empty()).collect();
    let mut seen = HashSet::new();
    e.questions.retain(|q| seen.insert(q.clone()));
    if e.questions.is_empty() || e.questions.len() > MAX_PHRASINGS {
        return Err(ValidationError::one("questions", format!("1 to {MAX_PHRASINGS} non-empty phrasings")));
    }
    if let Some(q) = e.questions.iter().find(|q| q.chars().count() > MAX_PHRASING_CHARS) {
        return Err(ValidationError::one(
            "questions",
            format!("{:?}… is longer than {MAX_PHRASING_CHARS} characters", q.chars().take(20).collect::<String>()),
        ));
    }
    e.answer = e.answer.trim().to_string();
    if e.answer.is_empty() || e.answer.chars().count() > MAX_ANSWER_CHARS {
        return Err(ValidationError::one("answer", format!("1 to {MAX_ANSWER_CHARS} characters")));
    }
    let control = |t: &String| t.chars().any(|c| c.is_control() && c != '\n');
    if e.questions.iter().any(control) {
        return Err(ValidationError::one("questions", "control characters are not allowed"));
    }
    if control(&e.answer) {
        return Err(ValidationError::one("answer", "control characters are not allowed"));
    }
    Ok(e)
}

/// What an import did: entries saved, and the lines refused.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FaqImport {
    pub saved: usize,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub errors: Vec<LineError>,
}

impl Engine {
    /// Saves checked entries (replacing those with the same key and language).
    pub async fn save_faq_entries(&self, entries: Vec<NewFaqEntry>) -> Result<Vec<FaqEntry>, EngineError> {
        let entries = entries.into_iter().map(check_entry).collect::<Result<Vec<_>, _>>()?;
        let existing: HashSet<(String, String)> =
            self.store.faq_entries(0, MAX_FAQ_ENTRIES as u32 + 1).await?.into_iter().map(|x| (x.key, x.lang)).collect();
        let new: HashSet<(&str, &str)> = entries
            .iter()
            .map(|e| (e.key.as_str(), e.lang.as_str()))
            .filter(|(k, l)| !existing.contains(&(k.to_string(), l.to_string())))
            .collect();
        if existing.len() + new.len() > MAX_FAQ_ENTRIES {
            return Err(ValidationError::one(
                "entries",
                format!("the FAQ would hold {} entries; at most {MAX_FAQ_ENTRIES}", existing.len() + new.len()),
            )
            .into());
        }
        Ok(self.store.save_faq_entries(&entries).await?)
    }

    /// Imports an FAQ file: good entries are saved, bad lines reported.
    pub async fn import_faq(&self, name: &str, text: &str) -> Result<FaqImport, EngineError> {
        let parsed = parse_faq(name, text);
        let saved = if parsed.entries.is_empty() { 0 } else { self.save_faq_entries(parsed.entries).await?.len() };
        Ok(FaqImport { saved, errors: parsed.errors })
    }

    pub async fn faq_entries(&self, after: i64, limit: u32) -> Result<Vec<FaqEntry>, EngineError> {
        Ok(self.store.faq_entries(after, limit.clamp(1, 1_000)).await?)
    }

    pub async fn faq_entry(&self, id: i64) -> Result<Option<FaqEntry>, EngineError> {
        Ok(self.store.faq_entry(id).await?)
    }

    pub async fn delete_faq_entry(&self, id: i64) -> Result<bool, EngineError> {
        Ok(self.store.delete_faq_entry(id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, lang: &str, questions: &[&str], answer: &str) -> NewFaqEntry {
        NewFaqEntry {
            key: key.into(),
            lang: lang.into(),
            questions: questions.iter().map(|q| q.to_string()).collect(),
            answer: answer.into(),
        }
    }

    #[test]
    fn entries_are_checked_field_by_field() {
        let ok = check_entry(entry(" post ", "ZH", &[" 怎么发布需求？ ", ""], " 答案 ")).unwrap();
        assert_eq!((ok.key.as_str(), ok.lang.as_str(), ok.answer.as_str()), ("post", "zh", "答案"));
        assert_eq!(ok.questions, vec!["怎么发布需求？"]);
        let repeated = check_entry(entry("k", "zh", &["甲", "乙", "甲 "], "a")).unwrap();
        assert_eq!(repeated.questions, vec!["甲", "乙"], "a repeated phrasing is kept once, wherever it is");
        let field = |e: NewFaqEntry| check_entry(e).unwrap_err().0[0].field.clone();
        assert_eq!(field(entry("a b", "zh", &["q"], "a")), "entry");
        assert_eq!(field(entry("k", "fr", &["q"], "a")), "lang");
        assert_eq!(field(entry("k", "en", &[], "a")), "questions");
        assert_eq!(field(entry("k", "en", &[&"长".repeat(301)], "a")), "questions");
        assert_eq!(field(entry("k", "en", &["q"], " ")), "answer");
        assert_eq!(field(entry("k", "en", &["q"], "a\u{7}b")), "answer");
    }
}
