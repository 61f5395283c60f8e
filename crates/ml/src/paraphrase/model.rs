//! Scoring a pair, and the scorer's byte format: `WLPARA1\n`, a JSON header
//! line (configuration, corpus statistics, z-scores, dense weights, bias,
//! threshold), then the non-zero sparse weights as little-endian `u32`
//! bucket + `f32` weight.

use serde::{Deserialize, Serialize};

use super::dense::{DENSE_FEATURES, dense};
use super::sparse::{SPARSE_BUCKETS_LOG2, sparse};
use super::stats::CorpusStats;
use super::tokens::Analysed;
use super::{ParaphraseError, ParaphraseScorer, ScorerConfig};

const MAGIC: &[u8] = b"WLPARA1\n";

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PairScore {
    /// Probability that the two ask the same thing.
    pub probability: f64,
    /// The model's log-odds (what re-ranking adds other evidence to).
    pub margin: f64,
    /// Whether `probability` reaches the threshold chosen in training.
    pub same: bool,
}

#[derive(Serialize, Deserialize)]
struct Header {
    config: ScorerConfig,
    stats: CorpusStats,
    mean: Vec<f64>,
    scale: Vec<f64>,
    dense_weights: Vec<f64>,
    bias: f64,
    threshold: f64,
}

impl ParaphraseScorer {
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    pub fn score(&self, a: &str, b: &str) -> PairScore {
        self.score_analysed(&Analysed::of(a), &Analysed::of(b))
    }

    pub fn score_analysed(&self, a: &Analysed, b: &Analysed) -> PairScore {
        let d = dense(&self.stats, a, b);
        let mut margin = self.bias;
        for (i, x) in d.iter().enumerate() {
            margin += (x - self.mean[i]) / self.scale[i] * self.dense_weights[i];
        }
        for bucket in sparse(a, b) {
            margin += f64::from(self.sparse_weights[bucket as usize]);
        }
        let probability = 1.0 / (1.0 + (-margin).exp());
        PairScore { probability, margin, same: probability >= self.threshold }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let header = Header {
            config: self.config,
            stats: self.stats.clone(),
            mean: self.mean.clone(),
            scale: self.scale.clone(),
            dense_weights: self.dense_weights.clone(),
            bias: self.bias,
            threshold: self.threshold,
        };
        let mut out = MAGIC.to_vec();
        out.extend(serde_json::to_vec(&header).expect("a header serialises"));
        out.push(b'\n');
        for (bucket, w) in self.sparse_weights.iter().enumerate().filter(|(_, w)| **w != 0.0) {
            out.extend((bucket as u32).to_le_bytes());
            out.extend(w.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ParaphraseError> {
        let bad = |why: &str| ParaphraseError::BadModel(why.to_string());
        let rest = bytes.strip_prefix(MAGIC).ok_or_else(|| bad("wrong magic"))?;
        let end = rest.iter().position(|b| *b == b'\n').ok_or_else(|| bad("no header line"))?;
        let header: Header = serde_json::from_slice(&rest[..end]).map_err(|e| bad(&format!("header: {e}")))?;
        let sizes_ok = [&header.mean, &header.scale, &header.dense_weights].iter().all(|v| v.len() == DENSE_FEATURES)
            && header.stats.per_tokenisation.len() == 4;
        if !sizes_ok {
            return Err(bad("feature counts do not match this version"));
        }
        let body = &rest[end + 1..];
        if body.len() % 8 != 0 {
            return Err(bad("truncated weights"));
        }
        let mut sparse_weights = vec![0.0f32; 1 << SPARSE_BUCKETS_LOG2];
        for chunk in body.chunks_exact(8) {
            let bucket = u32::from_le_bytes(chunk[..4].try_into().expect("4 bytes")) as usize;
            let w = f32::from_le_bytes(chunk[4..].try_into().expect("4 bytes"));
            *sparse_weights.get_mut(bucket).ok_or_else(|| bad("bucket out of range"))? = w;
        }
        Ok(ParaphraseScorer {
            config: header.config,
            stats: header.stats,
            mean: header.mean,
            scale: header.scale,
            dense_weights: header.dense_weights,
            sparse_weights,
            bias: header.bias,
            threshold: header.threshold,
        })
    }
}
