//! Query groups of labelled rows, and the learning-to-rank file format
//! `qid<TAB>label<TAB>feature…` with a header line naming the features.

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

/// Reads `qid<TAB>label<TAB>feature…` with a header line. Rows of one query
/// need not be adjacent; queries keep the order of their first row.
pub fn read_rank_set(path: &Path) -> Result<RankSet, RankerError> {
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
    let mut order: Vec<String> = Vec::new();
    let mut rows: HashMap<String, Vec<(f64, Vec<f64>)>> = HashMap::new();
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
        let qid = parts[0].trim().to_string();
        let group = rows.entry(qid.clone()).or_insert_with(|| {
            order.push(qid);
            Vec::new()
        });
        group.push((label, f));
    }
    let mut set = RankSet::new(names);
    for q in order {
        let r = rows.remove(&q).unwrap_or_default();
        set.push_query(q, r);
    }
    Ok(set)
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
}
