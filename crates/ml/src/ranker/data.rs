//! Query groups of labelled rows, and the learning-to-rank files they are
//! read from: `qid<TAB>label<TAB>feature…` with a header line naming the
//! features, or the SVMlight / LETOR layout public sets ship in (MSLR-WEB,
//! Yahoo, Istella, LETOR: `label qid:Q 1:v 2:v … # comment`).

use std::collections::HashMap;
use std::io::BufRead;
use std::ops::Range;
use std::path::Path;

use super::RankerError;

/// The largest label a file may give: a label's gain is 2^label − 1, so a
/// far larger one overflows NDCG to infinity (LightGBM's default gains stop
/// at 30 too).
pub const MAX_LABEL: f64 = 30.0;

/// A label as read, or why it cannot be one.
fn label_in_range(label: f64) -> Result<f64, String> {
    if label < 0.0 {
        Err(format!("label {label} is negative"))
    } else if label > MAX_LABEL {
        Err(format!("label {label} is above {MAX_LABEL} (its gain is 2^label − 1)"))
    } else {
        Ok(label)
    }
}

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

/// Rows as read, flat in file order, then put in query order in place: a
/// file of millions of rows (an MSLR-WEB30K fold: 2.3M × 136) is held once,
/// not once per row and again grouped.
#[derive(Default)]
struct Rows {
    /// Values per row as stored: at least the widest row so far.
    stride: usize,
    /// The widest row so far.
    width: usize,
    features: Vec<f64>,
    labels: Vec<f64>,
    /// Per row, its query's index in first-seen order.
    query_of: Vec<usize>,
    ids: Vec<String>,
    index: HashMap<String, usize>,
}

impl Rows {
    fn with_width(width: usize) -> Self {
        Rows { stride: width, width, ..Rows::default() }
    }

    fn push(&mut self, qid: &str, label: f64, values: &[f64]) {
        if values.len() > self.stride {
            self.widen(values.len());
        }
        let q = match self.index.get(qid) {
            Some(&q) => q,
            None => {
                self.index.insert(qid.to_string(), self.ids.len());
                self.ids.push(qid.to_string());
                self.ids.len() - 1
            }
        };
        self.width = self.width.max(values.len());
        let at = self.labels.len() * self.stride;
        self.features.extend_from_slice(values);
        self.features.resize(at + self.stride, 0.0);
        self.labels.push(label);
        self.query_of.push(q);
    }

    /// Re-lays the rows at a wider stride, at least doubling it, so a file
    /// whose rows widen as it goes is re-laid a few times, not once a row.
    fn widen(&mut self, need: usize) {
        let (old, new) = (self.stride, need.max(self.stride * 2).min(MAX_FEATURES).max(need));
        let rows = self.labels.len();
        self.features.resize(rows * new, 0.0);
        // Last row first: a row's new place overlaps only rows after it.
        for r in (0..rows).rev() {
            self.features.copy_within(r * old..(r + 1) * old, r * new);
            self.features[r * new + old..(r + 1) * new].fill(0.0);
        }
        self.stride = new;
    }

    fn into_set(mut self, names: Vec<String>) -> RankSet {
        let (width, rows) = (names.len(), self.labels.len());
        debug_assert!(width >= self.width && width <= self.stride);
        if self.stride != width {
            for r in 0..rows {
                self.features.copy_within(r * self.stride..r * self.stride + width, r * width);
            }
            self.features.truncate(rows * width);
        }
        // Growth left up to half of each buffer spare (a large one shrinks
        // in place: glibc remaps it).
        self.features.shrink_to_fit();
        self.labels.shrink_to_fit();
        // Each row's place in query order (stable), then the rows moved
        // there cycle by cycle, in place.
        let mut start = vec![0usize; self.ids.len() + 1];
        for &q in &self.query_of {
            start[q + 1] += 1;
        }
        for q in 0..self.ids.len() {
            start[q + 1] += start[q];
        }
        if self.query_of.windows(2).any(|w| w[1] < w[0]) {
            let mut next = start.clone();
            let mut dest: Vec<usize> = self
                .query_of
                .iter()
                .map(|&q| {
                    next[q] += 1;
                    next[q] - 1
                })
                .collect();
            for i in 0..rows {
                while dest[i] != i {
                    let j = dest[i];
                    for k in 0..width {
                        self.features.swap(i * width + k, j * width + k);
                    }
                    self.labels.swap(i, j);
                    dest.swap(i, j);
                }
            }
        }
        let queries = start.windows(2).map(|w| w[0]..w[1]).collect();
        RankSet { feature_names: names, features: self.features, labels: self.labels, queries, query_ids: self.ids }
    }
}

/// `label qid:Q index:value …` (indices from 1, absent = 0; `#` starts a
/// comment). Features are named by their index; the widest row sets the
/// width (see [`RankSet::pad_features`] to line up two files).
fn read_svmlight(path: &Path) -> Result<RankSet, RankerError> {
    let file = path.display().to_string();
    let bad = |line: usize, reason: String| RankerError::BadLine { file: file.clone(), line, reason };
    let mut rows = Rows::default();
    let mut features = Vec::new();
    for (i, line) in std::io::BufReader::new(std::fs::File::open(path)?).lines().enumerate() {
        let n = i + 1;
        let line = line?;
        let data = line.split('#').next().unwrap_or_default();
        let mut fields = data.split_whitespace();
        let Some(label) = fields.next() else { continue };
        let label = label
            .parse::<f64>()
            .ok()
            .filter(|l| l.is_finite())
            .ok_or_else(|| bad(n, format!("label {label:?} is not a number")))?;
        let label = label_in_range(label).map_err(|e| bad(n, e))?;
        let qid = fields
            .next()
            .and_then(|q| q.strip_prefix("qid:"))
            .ok_or_else(|| bad(n, "expected qid:Q after the label".into()))?;
        features.clear();
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
        rows.push(qid, label, &features);
    }
    let width = rows.width;
    Ok(rows.into_set((1..=width).map(|k| k.to_string()).collect()))
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
    let mut rows = Rows::with_width(names.len());
    let mut f = Vec::with_capacity(names.len());
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
        let label = label_in_range(num(1)?).map_err(|e| bad(n, e))?;
        f.clear();
        for j in 2..cols.len() {
            f.push(num(j)?);
        }
        rows.push(parts[0].trim(), label, &f);
    }
    Ok(rows.into_set(names))
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
        // A label past 30 would make its gain, and NDCG, infinite.
        for (label, want) in [("-1", ":2: label -1 is negative"), ("5000", ":2: label 5000 is above 30")] {
            std::fs::write(&p, format!("qid\tlabel\ta\n1\t{label}\t0.5\n1\t0\t0.2\n")).unwrap();
            let e = read_rank_set(&p).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        std::fs::write(&p, "qid\tlabel\ta\n1\t30\t0.5\n1\t0\t0.2\n").unwrap();
        assert_eq!(read_rank_set(&p).unwrap().labels, [30.0, 0.0]);
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
        // Rows that widen as the file goes, queries interleaved: each row
        // keeps its values through every re-lay and the regrouping.
        std::fs::write(&p, "1 qid:a 1:1\n2 qid:b 2:2\n3 qid:a 5:5\n4 qid:c 9:9 1:0.5\n5 qid:b 3:3\n").unwrap();
        let s = read_rank_set(&p).unwrap();
        assert_eq!(s.query_ids, ["a", "b", "c"]);
        assert_eq!(s.queries, [0..2, 2..4, 4..5]);
        assert_eq!(s.labels, [1.0, 3.0, 2.0, 5.0, 4.0]);
        let dense = |pairs: &[(usize, f64)]| {
            let mut r = vec![0.0; 9];
            for &(k, v) in pairs {
                r[k - 1] = v;
            }
            r
        };
        assert_eq!(s.row(0), dense(&[(1, 1.0)]));
        assert_eq!(s.row(1), dense(&[(5, 5.0)]));
        assert_eq!(s.row(2), dense(&[(2, 2.0)]));
        assert_eq!(s.row(3), dense(&[(3, 3.0)]));
        assert_eq!(s.row(4), dense(&[(9, 9.0), (1, 0.5)]));
        for (second, want) in [
            ("1 10 1:0.5", ":2: expected qid:Q after the label"),
            ("1 qid:1 0:0.5", ":2: \"0:0.5\" is not index:value (index 1–"),
            ("x qid:1 1:1", ":2: label \"x\" is not a number"),
            ("31 qid:1 1:1", ":2: label 31 is above 30"),
            ("-1 qid:1 1:1", ":2: label -1 is negative"),
        ] {
            std::fs::write(&p, format!("1 qid:1 1:1\n{second}\n")).unwrap();
            let e = read_rank_set(&p).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        std::fs::write(&p, "30 qid:1 1:1\n0 qid:1 1:2\n").unwrap();
        assert_eq!(read_rank_set(&p).unwrap().labels, [30.0, 0.0]);
    }
}
