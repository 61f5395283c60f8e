//! Top-N ranking metrics with binary relevance: P@k = hits/k, R@k =
//! hits/|relevant|, NDCG@k with the ideal DCG over min(k, |relevant|).

/// Sums of the three metrics and the number of users they cover.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RankingTotals {
    pub precision: f64,
    pub recall: f64,
    pub ndcg: f64,
    pub users: usize,
}

impl RankingTotals {
    /// Adds one user's ranked list against its relevant items (sorted
    /// ascending); returns that user's NDCG@k (`None`: no relevant items).
    pub fn add(&mut self, ranked: &[u32], relevant: &[u32], k: usize) -> Option<f64> {
        if relevant.is_empty() {
            return None;
        }
        let mut dcg = 0.0;
        let mut hits = 0usize;
        for (pos, item) in ranked.iter().take(k).enumerate() {
            if relevant.binary_search(item).is_ok() {
                hits += 1;
                dcg += 1.0 / ((pos + 2) as f64).log2();
            }
        }
        let idcg: f64 = (0..relevant.len().min(k)).map(|p| 1.0 / ((p + 2) as f64).log2()).sum();
        self.precision += hits as f64 / k as f64;
        self.recall += hits as f64 / relevant.len() as f64;
        self.ndcg += dcg / idcg;
        self.users += 1;
        Some(dcg / idcg)
    }

    /// (P@k, R@k, NDCG@k) averaged over users.
    pub fn means(&self) -> (f64, f64, f64) {
        let n = self.users.max(1) as f64;
        (self.precision / n, self.recall / n, self.ndcg / n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let mut t = RankingTotals::default();
        // Relevant {2, 5}; ranked 5, 1, 2: hits at positions 1 and 3.
        t.add(&[5, 1, 2], &[2, 5], 3);
        let (p, r, n) = t.means();
        assert!((p - 2.0 / 3.0).abs() < 1e-12);
        assert!((r - 1.0).abs() < 1e-12);
        let dcg = 1.0 + 1.0 / 4f64.log2();
        let idcg = 1.0 + 1.0 / 3f64.log2();
        assert!((n - dcg / idcg).abs() < 1e-12);
        // A user with nothing relevant is not counted.
        t.add(&[1], &[], 3);
        assert_eq!(t.users, 1);
        t.add(&[9, 8, 7], &[1], 3);
        let (p, _, n) = t.means();
        assert!((p - 1.0 / 3.0).abs() < 1e-12 && (n - dcg / idcg / 2.0).abs() < 1e-12);
    }
}
