//! FAQ files: JSONL (`{"entry", "lang", "questions": [..], "answer"}` a line)
//! or CSV (`entry,lang,question,answer`, rows of one entry and language
//! together giving its phrasings; the answer on at least one of them). Every
//! bad line is reported with its number and the good ones are kept.

use std::collections::BTreeMap;

use serde::Deserialize;
use wantloop_store::NewFaqEntry;

use crate::faq::check_entry;

/// A line of an imported file (FAQ, triples) that was not imported, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LineError {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct ParsedFaq {
    pub entries: Vec<NewFaqEntry>,
    pub errors: Vec<LineError>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonEntry {
    entry: String,
    lang: String,
    questions: Vec<String>,
    answer: String,
}

/// Parses a file by its name's extension (`.jsonl`/`.json` or `.csv`).
pub fn parse_faq(name: &str, text: &str) -> ParsedFaq {
    let text = text.trim_start_matches('\u{feff}');
    if name.to_lowercase().ends_with(".csv") { parse_csv(text) } else { parse_jsonl(text) }
}

fn parse_jsonl(text: &str) -> ParsedFaq {
    let mut out = ParsedFaq::default();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<JsonEntry>(raw).map_err(|e| e.to_string()).and_then(|e| {
            check_entry(NewFaqEntry { key: e.entry, lang: e.lang, questions: e.questions, answer: e.answer })
                .map_err(|v| v.to_string())
        });
        match parsed {
            Ok(e) => out.entries.push(e),
            Err(reason) => out.errors.push(LineError { line, reason }),
        }
    }
    out
}

/// Rows of one entry and language: its first line, phrasings and answer.
type Group = (usize, Vec<String>, Option<String>);

fn parse_csv(text: &str) -> ParsedFaq {
    let mut out = ParsedFaq::default();
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    match reader.headers() {
        Ok(h) if h.iter().map(str::trim).eq(["entry", "lang", "question", "answer"]) => {}
        _ => {
            out.errors.push(LineError { line: 1, reason: "the header must be entry,lang,question,answer".into() });
            return out;
        }
    }
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    for row in reader.records() {
        let (row, line) = match row {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line() as usize);
                (r, line)
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                out.errors.push(LineError { line, reason: e.to_string() });
                continue;
            }
        };
        if row.len() != 4 {
            out.errors.push(LineError { line, reason: format!("want 4 fields, found {}", row.len()) });
            continue;
        }
        // Grouped as they will be stored: "EN" and "en" rows are one entry.
        let key = (row[0].trim().to_string(), row[1].trim().to_ascii_lowercase());
        let group = groups.entry(key).or_insert_with(|| (line, Vec::new(), None));
        let answer = row[3].trim();
        if !answer.is_empty() {
            match &group.2 {
                Some(a) if a != answer => {
                    let reason = "a second, different answer for the same entry".into();
                    out.errors.push(LineError { line, reason });
                    continue;
                }
                _ => group.2 = Some(answer.to_string()),
            }
        }
        group.1.push(row[2].to_string());
    }
    for ((key, lang), (line, questions, answer)) in groups {
        let entry = NewFaqEntry { key, lang, questions, answer: answer.unwrap_or_default() };
        match check_entry(entry) {
            Ok(e) => out.entries.push(e),
            Err(v) => out.errors.push(LineError { line, reason: v.to_string() }),
        }
    }
    out.errors.sort_by_key(|e| e.line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_keeps_good_lines_and_numbers_bad_ones() {
        let text = "{\"entry\":\"post\",\"lang\":\"zh\",\"questions\":[\"怎么发布需求？\"],\"answer\":\"用 POST /v1/demands。\"}\n\
                    \n\
                    {\"entry\":\"post\",\"lang\":\"fr\",\"questions\":[\"q\"],\"answer\":\"a\"}\n\
                    not json\n\
                    {\"entry\":\"x\",\"lang\":\"en\",\"questions\":[],\"answer\":\"a\"}\n";
        let p = parse_faq("faq.jsonl", text);
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.entries[0].questions, vec!["怎么发布需求？"]);
        assert_eq!(p.errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert!(p.errors[0].reason.contains("lang"), "{:?}", p.errors[0]);
        assert!(p.errors[2].reason.contains("questions"), "{:?}", p.errors[2]);
    }

    #[test]
    fn csv_groups_rows_into_entries() {
        let text = "entry,lang,question,answer\n\
                    reject,en,what happens if I reject a match?,The offer's unit is released.\n\
                    reject,en,can I turn down a proposal?,\n\
                    post,en,how do I post a demand?,\n\
                    reject,en,why reject,Something else.\n\
                    broken,en\n";
        let p = parse_faq("faq.csv", text);
        assert_eq!(p.entries.len(), 1, "{p:?}");
        assert_eq!(p.entries[0].questions.len(), 2);
        // The entry without an answer (its first line, 4) and the second answer (5), the short row (6).
        assert_eq!(p.errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![4, 5, 6], "{:?}", p.errors);
        let mixed = parse_faq("FAQ.CSV", "entry,lang,question,answer\nk,EN,q one?,a.\nk,en,q two?,\n");
        assert_eq!((mixed.entries.len(), mixed.entries[0].questions.len()), (1, 2), "{mixed:?}");
        let bad_header = parse_faq("faq.csv", "a,b\n1,2\n");
        assert_eq!(bad_header.errors[0].line, 1);
    }
}
