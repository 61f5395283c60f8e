//! Reading labelled training files: TSV `text<TAB>label` or JSONL
//! `{"text": …, "label": …}`, chosen by extension (`.jsonl`/`.ndjson` is JSONL,
//! anything else TSV). Malformed lines are errors naming the line.

use std::path::Path;

use serde::Deserialize;

use super::ClassifierError;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LabelledText {
    pub text: String,
    pub label: String,
}

pub fn read_file(path: &Path) -> Result<Vec<LabelledText>, ClassifierError> {
    let bytes = std::fs::read(path).map_err(|e| ClassifierError::Io(format!("{}: {e}", path.display())))?;
    let jsonl = matches!(path.extension().and_then(|e| e.to_str()), Some("jsonl" | "ndjson"));
    parse(&bytes, jsonl).map_err(|e| match e {
        ClassifierError::BadLine { line, reason, .. } => {
            ClassifierError::BadLine { file: path.display().to_string(), line, reason }
        }
        other => other,
    })
}

/// Parses file contents; `file` in errors is filled in by [`read_file`].
pub fn parse(bytes: &[u8], jsonl: bool) -> Result<Vec<LabelledText>, ClassifierError> {
    let bad = |line: usize, reason: String| ClassifierError::BadLine { file: String::new(), line, reason };
    let text =
        std::str::from_utf8(bytes).map_err(|e| bad(1 + count_lines(&bytes[..e.valid_up_to()]), "not UTF-8".into()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let ex = if jsonl {
            serde_json::from_str::<LabelledText>(line).map_err(|e| bad(n, format!("invalid JSON: {e}")))?
        } else {
            let (t, l) = line.rsplit_once('\t').ok_or_else(|| bad(n, "expected text<TAB>label".into()))?;
            LabelledText { text: t.to_string(), label: l.trim().to_string() }
        };
        if ex.text.trim().is_empty() {
            return Err(bad(n, "empty text".into()));
        }
        if ex.label.trim().is_empty() {
            return Err(bad(n, "empty label".into()));
        }
        out.push(ex);
    }
    Ok(out)
}

fn count_lines(b: &[u8]) -> usize {
    b.iter().filter(|c| **c == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tsv_and_jsonl_and_names_bad_lines() {
        let ok = parse("卡佩罗谈德国队\t7\n\n股市大涨\t2\n".as_bytes(), false).unwrap();
        assert_eq!(ok[1], LabelledText { text: "股市大涨".into(), label: "2".into() });
        let j = parse(br#"{"text": "need a tutor", "label": "tutoring"}"#, true).unwrap();
        assert_eq!(j[0].label, "tutoring");
        match parse("a\tb\nno tab here\n".as_bytes(), false) {
            Err(ClassifierError::BadLine { line: 2, .. }) => {}
            other => panic!("{other:?}"),
        }
        match parse(b"{\"text\": \"x\"}\n", true) {
            Err(ClassifierError::BadLine { line: 1, reason, .. }) => assert!(reason.contains("label")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse(b"ok\t1\n\t2\n", false), Err(ClassifierError::BadLine { line: 2, .. })));
        assert!(matches!(parse(b"ok\t1\n\xff\t2\n", false), Err(ClassifierError::BadLine { line: 2, .. })));
    }
}
