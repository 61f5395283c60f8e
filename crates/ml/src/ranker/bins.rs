//! Feature values cut into at most 255 bins, so a tree's split search scans
//! bins instead of sorted values (the histogram method of LightGBM and
//! XGBoost's `hist`).

use super::data::RankSet;

/// Cut points per feature: a value `x` falls in the first bin `b` with
/// `x <= cuts[b]`, or in bin `cuts.len()` above them all.
#[derive(Debug, Clone)]
pub(crate) struct Bins {
    pub cuts: Vec<Vec<f64>>,
}

/// Rows' bin numbers, one column per feature.
pub(crate) struct Binned {
    pub columns: Vec<Vec<u8>>,
    pub bins: Bins,
}

impl Bins {
    /// Cut points from the training rows: midpoints between distinct values,
    /// or between quantiles when a feature has more than `max_bin` of them.
    pub fn fit(set: &RankSet, max_bin: usize) -> Self {
        let max_bin = max_bin.clamp(2, 256);
        let n = set.n_features();
        let cuts = (0..n)
            .map(|f| {
                let mut v: Vec<f64> = (0..set.len()).map(|i| set.row(i)[f]).collect();
                v.sort_by(f64::total_cmp);
                let mut distinct = v.clone();
                distinct.dedup();
                if distinct.len() <= max_bin {
                    return distinct.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
                }
                let mut cuts: Vec<f64> = (1..max_bin)
                    .filter_map(|k| {
                        let x = v[k * v.len() / max_bin];
                        // The next distinct value above x: the cut lies between them.
                        let at = distinct.partition_point(|d| *d <= x);
                        distinct.get(at).map(|next| (x + next) / 2.0)
                    })
                    .collect();
                cuts.dedup();
                cuts
            })
            .collect();
        Self { cuts }
    }

    pub fn bin(&self, feature: usize, x: f64) -> u8 {
        self.cuts[feature].partition_point(|c| *c < x) as u8
    }

    pub fn apply(self, set: &RankSet) -> Binned {
        let columns =
            (0..set.n_features()).map(|f| (0..set.len()).map(|i| self.bin(f, set.row(i)[f])).collect()).collect();
        Binned { columns, bins: self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_values_get_one_bin_each_and_many_are_quantised() {
        let mut s = RankSet::new(vec!["a".into(), "b".into()]);
        s.push_query("q", (0..1000).map(|i| (0.0, vec![(i % 3) as f64, i as f64])));
        let b = Bins::fit(&s, 16);
        assert_eq!(b.cuts[0], [0.5, 1.5]);
        assert_eq!((b.bin(0, 0.0), b.bin(0, 1.0), b.bin(0, 7.0)), (0, 1, 2));
        assert_eq!(b.cuts[1].len(), 15);
        // Quantile bins hold about equal counts.
        let binned = b.apply(&s);
        let first = binned.columns[1].iter().filter(|x| **x == 0).count();
        assert!((55..=70).contains(&first), "{first}");
    }
}
