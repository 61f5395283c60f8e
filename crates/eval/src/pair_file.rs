//! Labelled question pairs from a file, in the layouts public pair sets
//! ship in, so one set need not be converted before it is measured:
//!
//! - CSV or TSV (a tab in the first line means TSV), UTF-8 with or without
//!   a BOM, RFC 4180 quoting;
//! - with a header naming the columns (`sentence1,sentence2,label` as in
//!   BQ; `question1,question2,is_duplicate` as in Quora's; `text_a`,
//!   `text_b`; other columns ignored) or without one (the first three
//!   columns, as LCQMC's TSV). A first row whose label column holds a label
//!   is data, never swallowed as a header;
//! - JSON Lines (`{"sentence1": …, "sentence2": …, "label": …}`, any of the
//!   names above; labels as numbers, strings or booleans).
//!
//! A bad row is an error naming its line: a measurement on a silently
//! shortened file would not be the one asked for. The one exception is a
//! row with an empty sentence (Quora's release has a few): there is nothing
//! to match, so it is skipped and counted, and the count is reported.

use std::path::Path;

use wantloop_ml::paraphrase::LabelledPair;

use crate::EvalError;

const FIRST: &[&str] = &["sentence1", "question1", "text_a", "query1", "s1", "q1"];
const SECOND: &[&str] = &["sentence2", "question2", "text_b", "query2", "s2", "q2"];
const LABEL: &[&str] = &["label", "is_duplicate", "is_paraphrase", "similar"];

/// The pairs of one file.
#[derive(Debug, Clone, Default)]
pub struct PairFile {
    pub pairs: Vec<LabelledPair>,
    /// Rows skipped because a sentence was empty.
    pub skipped_empty: usize,
}

/// Reads every pair of `path`.
pub fn read(path: &Path) -> Result<PairFile, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::Io(format!("{}: {e}", path.display())))?;
    let file = parse(&text).map_err(|e| EvalError::Format(format!("{}:{e}", path.display())))?;
    if file.pairs.is_empty() {
        return Err(EvalError::Format(format!("{}: no pairs", path.display())));
    }
    Ok(file)
}

/// Parses a file's text; an error starts with the line it is about.
pub fn parse(text: &str) -> Result<PairFile, String> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with('{') { json_lines(text) } else { delimited(text) }
}

fn label(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "1.0" | "true" => Some(true),
        "0" | "0.0" | "false" => Some(false),
        _ => None,
    }
}

fn column(header: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    header.iter().position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
}

/// Adds one row to `file`: an error for a bad label, skipped when a
/// sentence is empty.
fn add(file: &mut PairFile, a: &str, b: &str, l: &str, line: u64) -> Result<(), String> {
    let label = label(l).ok_or_else(|| format!("{line}: label must be 0 or 1, not {:?}", l.trim()))?;
    if a.trim().is_empty() || b.trim().is_empty() {
        file.skipped_empty += 1;
    } else {
        file.pairs.push(LabelledPair { a: a.to_string(), b: b.to_string(), label });
    }
    Ok(())
}

fn delimited(text: &str) -> Result<PairFile, String> {
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = if first_line.contains('\t') { b'\t' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        // LCQMC-style TSV does not quote; a stray quote must stay text.
        .quoting(delimiter == b',')
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let Some(first) = records.next() else { return Ok(PairFile::default()) };
    let first = first.map_err(|e| format!("1: {e}"))?;
    let headed = first.len() < 3 || label(&first[2]).is_none();
    let columns = if headed {
        match (column(&first, FIRST), column(&first, SECOND), column(&first, LABEL)) {
            (Some(a), Some(b), Some(l)) => [a, b, l],
            _ => {
                return Err(format!(
                    "1: want a header naming the two sentences and the label (sentence1,sentence2,label), \
                     or rows of sentence1,sentence2,0|1; found {:?}",
                    first.iter().collect::<Vec<_>>()
                ));
            }
        }
    } else {
        [0, 1, 2]
    };
    let mut file = PairFile::default();
    let rows = (!headed).then_some(Ok(first)).into_iter().chain(records);
    for row in rows {
        let row = row.map_err(|e| format!("{}: {e}", e.position().map_or(0, |p| p.line())))?;
        let line = row.position().map_or(0, |p| p.line());
        if row.len() == 1 && row[0].trim().is_empty() {
            continue;
        }
        let field = |i: usize| row.get(i).ok_or_else(|| format!("{line}: want {} columns, found {}", i + 1, row.len()));
        add(&mut file, field(columns[0])?, field(columns[1])?, field(columns[2])?, line)?;
    }
    Ok(file)
}

fn json_lines(text: &str) -> Result<PairFile, String> {
    let mut file = PairFile::default();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(raw).map_err(|e| format!("{line}: {e}"))?;
        let get = |names: &[&str]| -> Result<String, String> {
            let v = names
                .iter()
                .find_map(|n| value.get(*n))
                .ok_or_else(|| format!("{line}: want a field {:?}", names[0]))?;
            Ok(match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Bool(b) => u8::from(*b).to_string(),
                other => other.to_string(),
            })
        };
        add(&mut file, &get(FIRST)?, &get(SECOND)?, &get(LABEL)?, line)?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(f: &PairFile) -> Vec<(&str, &str, bool)> {
        f.pairs.iter().map(|p| (p.a.as_str(), p.b.as_str(), p.label)).collect()
    }

    #[test]
    fn reads_the_bq_csv_with_its_bom_and_quoting() {
        let p = parse("\u{feff}sentence1,sentence2,label\n怎么还款,\"还款,怎么操作\",1\n借款,额度,0\n").unwrap();
        assert_eq!(texts(&p), [("怎么还款", "还款,怎么操作", true), ("借款", "额度", false)]);
    }

    #[test]
    fn a_headerless_tsv_keeps_its_first_row() {
        let p =
            parse("喜欢打篮球的男生喜欢什么样的女生\t爱打篮球的男生喜欢什么样的女生\t1\n我手机丢了\t我想换个手机\t0\n")
                .unwrap()
                .pairs;
        assert_eq!(p.len(), 2);
        assert!(p[0].label && !p[1].label);
        // Unquoted TSV: a quote is text.
        assert_eq!(parse("say \"hi\tsay hi\t1\n").unwrap().pairs[0].a, "say \"hi");
    }

    #[test]
    fn named_columns_are_found_wherever_they_are() {
        let quora = "id,qid1,qid2,question1,question2,is_duplicate\n0,1,2,How do I learn Rust?,What is the best way to learn Rust?,1\n";
        assert_eq!(
            texts(&parse(quora).unwrap()),
            [("How do I learn Rust?", "What is the best way to learn Rust?", true)]
        );
        let jsonl = "{\"sentence1\":\"a b\",\"sentence2\":\"b a\",\"label\":\"1\"}\n\n{\"text_a\":\"x\",\"text_b\":\"y\",\"label\":0}\n";
        assert_eq!(texts(&parse(jsonl).unwrap()), [("a b", "b a", true), ("x", "y", false)]);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let e = parse("sentence1,sentence2,label\na,b,1\nc,d,maybe\n").unwrap_err();
        assert!(e.starts_with("3: label must be 0 or 1"), "{e}");
        let e = parse("sentence1,sentence2,label\na,b,1\nc\n").unwrap_err();
        assert!(e.starts_with("3: want"), "{e}");
        let e = parse("a,b,c\nx,y,1\n").unwrap_err();
        assert!(e.starts_with("1: want a header"), "{e}");
        let e = parse("{\"sentence1\":\"a\",\"label\":1}\n").unwrap_err();
        assert!(e.starts_with("1: want a field \"sentence2\""), "{e}");
        let skipped = parse("question1,question2,is_duplicate\na,,0\nb,c,1\n").unwrap();
        assert_eq!((texts(&skipped), skipped.skipped_empty), (vec![("b", "c", true)], 1));
    }
}
