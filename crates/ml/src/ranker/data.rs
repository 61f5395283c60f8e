//! Query groups of labelled rows, and the learning-to-rank files they are
//! read from: `qid<TAB>label<TAB>feature…` with a header line naming the
//! features, or the SVMlight / LETOR layout public sets ship in (MSLR-WEB,
//! Yahoo, Istella, LETOR: `label qid:Q 1:v 2:v … # comment`).

use std::collections::HashMap;
use std::io::BufRead;
use std::ops::Range;
use std::path::Path;

use super::RankerError;

/// Rows grouped by query: `queries[q]` is the range of `q`'s rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RankSet {
    pub feature_names: Vec<String>,
    /// Row-major, `feature_names.len()` values per row.
    pub features: Vec<f64>,
    pub labels: Vec<f64>,
    pub queries: Vec<Range<usize>>,
    /// Each query's id as the file or caller named it.
    pub query_ids: Vec<String>,
}

impl RankSet {
    pub fn new(feature_names: Vec<String>) -> Self {
        Self { feature_names, ..Self::default() }
    }

    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f64] {
        let n = self.n_features();
        &self.features[i * n..(i + 1) * n]
    }

    /// Appends one query's rows (`(label, features)`); an empty query is skipped.
    pub fn push_query(&mut self, id: impl Into<String>, rows: impl IntoIterator<Item = (f64, Vec<f64>)>) {
        let start = self.labels.len();
        for (label, f) in rows {
            debug_assert_eq!(f.len(), self.n_features());
            self.labels.push(label);
            self.features.extend(f);
        }
        if self.labels.len() > start {
            self.queries.push(start..self.labels.len());
            self.query_ids.push(id.into());
        }
    }

    /// Widens an SVMlight set (features named `1`, `2`, …) to `width`
    /// features, absent ones 0: a test file whose rows never use the last
    /// index lines up with its training file. False (nothing changed) when
    /// the names are not that numbering or the set is this wide already.
    pub fn pad_features(&mut self, width: usize) -> bool {
        let numbered = self.feature_names.iter().enumerate().all(|(i, n)| *n == (i + 1).to_string());
        let old = self.n_features();
        if !numbered || width <= old {
            return false;
        }
        let mut features = Vec::with_capacity(self.len() * width);
        for i in 0..self.len() {
            features.extend_from_slice(self.row(i));
            features.resize((i + 1) * width, 0.0);
        }
        self.features = features;
        self.feature_names = (1..=width).map(|k| k.to_string()).collect();
        true
    }

    /// The queries at `picked` (indices into `queries`), as a set of their own.
    pub fn subset(&self, picked: &[usize]) -> RankSet {
        let mut out = RankSet::new(self.feature_names.clone());
        for &q in picked {
            let r = self.queries[q].clone();
            out.push_query(self.query_ids[q].clone(), r.map(|i| (self.labels[i], self.row(i).to_vec())));
        }
        out
    }
}

/// Reads a learning-to-rank file, either layout (an SVMlight file's first
/// line has `qid:` as its second field). Rows of one query need not be
/// adjacent; queries keep the order of their first row.
pub fn read_rank_set(path: &Path) -> Result<RankSet, RankerError> {
    let first = std::io::BufReader::new(std::fs::File::open(path)?)
        .lines()
        .map_while(Result::ok)
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .unwrap_or_default();
    if first.split_whitespace().nth(1).is_some_and(|f| f.starts_with("qid:")) {
        read_svmlight(path)
    } else {
        read_tsv(path)
    }
}

/// Groups rows by query id, queries in the order of their first row.
#[derive(Default)]
struct Grouped {
    order: Vec<String>,
    rows: HashMap<String, Vec<(f64, Vec<f64>)>>,
}

impl Grouped {
    fn push(&mut self, qid: &str, label: f64, features: Vec<f64>) {
        let group = self.rows.entry(qid.to_string()).or_insert_with(|| {
            self.order.push(qid.to_string());
            Vec::new()
        });
        group.push((label, features));
    }

    fn into_set(mut self, names: Vec<String>) -> RankSet {
        let width = names.len();
        let mut set = RankSet::new(names);
        for q in std::mem::take(&mut self.order) {
            let mut r = self.rows.remove(&q).unwrap_or_default();
            for (_, f) in &mut r {
                f.resize(width, 0.0);
            }
            set.push_query(q, r);
        }
        set
    }
}

/// `label qid:Q index:value …` (indices from 1, absent = 0; `#` starts a
/// comment). Features are named by their index; the widest row sets the
/// width (see [`RankSet::pad_features`] to line up two files).
fn read_svmlight(path: &Path) -> Result<RankSet, RankerError> {
    let file = path.display().to_string();
    let bad = |line: usize, reason: String| RankerError::BadLine { file: file.clone(), line, reason };
    let mut grouped = Grouped::default();
    let mut width = 0;
    for (i, line) in std::io::BufReader::new(std::fs::File::open(path)?).lines().enumerate() {
        let n = i + 1;
        let line = line?;
        let data = line.split('#').next().unwrap_or_default();
        let mut fields = data.split_whitespace();
        let Some(label) = fields.next() else { continue };
        let label = label
            .parse::<f64>()
            .ok()
            .filter(|l| l.is_finite() && *l >= 0.0)
            .ok_or_else(|| bad(n, format!("label {label:?} is not a number ≥ 0")))?;
        let qid = fields
            .next()
            .and_then(|q| q.strip_prefix("qid:"))
            .ok_or_else(|| bad(n, "expected qid:Q after the label".into()))?;
        let mut features = Vec::new();
        for f in fields {
            let parsed = f.split_once(':').and_then(|(k, v)| {
                Some((k.parse::<usize>().ok().filter(|k| (1..=MAX_FEATURES).contains(k))?, v.parse::<f64>().ok()?))
            });
            let (k, v) = parsed
                .filter(|(_, v)| v.is_finite())
                .ok_or_else(|| bad(n, format!("{f:?} is not index:value (index 1–{MAX_FEATURES}, a finite value)")))?;
            if features.len() < k {
                features.resize(k, 0.0);
            }
            features[k - 1] = v;
        }
        width = width.max(features.len());
        grouped.push(qid, label, features);
    }
    Ok(grouped.into_set((1..=width).map(|k| k.to_string()).collect()))
}

/// Feature indices beyond this are refused: rows are dense here.
const MAX_FEATURES: usize = 10_000;

/// `qid<TAB>label<TAB>feature…` with a header line.
fn read_tsv(path: &Path) -> Result<RankSet, RankerError> {
    let file = path.display().to_string();
    let bad = |line: usize, reason: String| RankerError::BadLine { file: file.clone(), line, reason };
    let reader = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut lines = reader.lines();
    let header = lines.next().ok_or_else(|| bad(1, "empty file: expected a header line".into()))??;
    let cols: Vec<&str> = header.split('\t').collect();
    if cols.len() < 3 {
        return Err(bad(1, "the header needs qid, label and at least one feature, tab-separated".into()));
    }
    let names: Vec<String> = cols[2..].iter().map(|s| s.trim().to_string()).collect();
    let mut grouped = Grouped::default();
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split('\t').collect();
        if parts.len() != cols.len() {
            return Err(bad(n, format!("{} columns, the header has {}", parts.len(), cols.len())));
        }
        let num =
            |j: usize| -> Result<f64, RankerError> {
                parts[j].trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                    bad(n, format!("column {} ({}): {:?} is not a finite number", j + 1, cols[j], parts[j]))
                })
            };
        let label = num(1)?;
        if label < 0.0 {
            return Err(bad(n, format!("label {label} is negative")));
        }
        let f = (2..cols.len()).map(num).collect::<Result<Vec<_>, _>>()?;
        grouped.push(parts[0].trim(), label, f);
    }
    Ok(grouped.into_set(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_groups_in_first_seen_order_and_names_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.tsv");
        std::fs::write(&p, "qid\tlabel\ta\tb\n7\t1\t0.5\t2\n3\t0\t1\t1\n7\t0\t0.1\t3\n").unwrap();
        let s = read_rank_set(&p).unwrap();
        assert_eq!(s.feature_names, ["a", "b"]);
        assert_eq!(s.query_ids, ["7", "3"]);
        assert_eq!(s.queries, [0..2, 2..3]);
        assert_eq!(s.row(1), [0.1, 3.0]);
        std::fs::write(&p, "qid\tlabel\ta\n1\t1\t0.5\n1\t1\tx\n").unwrap();
        let e = read_rank_set(&p).unwrap_err().to_string();
        assert!(e.ends_with(":3: column 3 (a): \"x\" is not a finite number"), "{e}");
        std::fs::write(&p, "qid\tlabel\ta\n1\t1\n").unwrap();
        assert!(read_rank_set(&p).unwrap_err().to_string().contains(":2: 2 columns, the header has 3"));
    }

    #[test]
    fn reads_svmlight_files_as_the_public_sets_ship_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("train.txt");
        std::fs::write(&p, "# MSLR-like\n\n2 qid:10 1:0.5 3:7 # doc a\n0 qid:4 2:1\n\n1 qid:10 1:0.25\n").unwrap();
        let mut s = read_rank_set(&p).unwrap();
        assert_eq!(s.feature_names, ["1", "2", "3"]);
        assert_eq!(s.query_ids, ["10", "4"]);
        assert_eq!(s.labels, [2.0, 1.0, 0.0]);
        assert_eq!(s.row(0), [0.5, 0.0, 7.0]);
        assert_eq!(s.row(1), [0.25, 0.0, 0.0]);
        assert!(s.pad_features(4));
        assert_eq!(s.row(2), [0.0, 1.0, 0.0, 0.0]);
        assert!(!s.pad_features(4) && !s.pad_features(2), "never narrower, nothing to do at its width");
        for (second, want) in [
            ("1 10 1:0.5", ":2: expected qid:Q after the label"),
            ("1 qid:1 0:0.5", ":2: \"0:0.5\" is not index:value (index 1–"),
            ("x qid:1 1:1", ":2: label \"x\" is not a number"),
        ] {
            std::fs::write(&p, format!("1 qid:1 1:1\n{second}\n")).unwrap();
            let e = read_rank_set(&p).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }
}
