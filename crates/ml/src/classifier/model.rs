//! A trained classifier: prediction, evaluation, and its byte format.
//!
//! Format: `WLCLS1\n`, a JSON header line (labels, feature config, training
//! parameters), then the bias and the non-zero weight rows as little-endian
//! `u32` row index + `f32 × labels`. Zero rows (buckets no example touched) are
//! not stored, which keeps files a fraction of the in-memory size.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{ClassifierError, FeatureConfig, Features, LabelledText, TrainConfig};
use crate::metrics::{ClassificationMetrics, classification};

const MAGIC: &[u8] = b"WLCLS1\n";

#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    pub(crate) labels: Vec<String>,
    pub(crate) config: TrainConfig,
    /// `buckets × labels`, row-major by bucket.
    pub(crate) weights: Vec<f32>,
    pub(crate) bias: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    pub label: String,
    /// Probability of `label`, in [0, 1].
    pub confidence: f64,
    /// The three most likely labels with their probabilities.
    pub top: Vec<(String, f64)>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    labels: Vec<String>,
    config: TrainConfig,
}

impl Classifier {
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    pub fn features(&self) -> &FeatureConfig {
        &self.config.features
    }

    pub(crate) fn scores_into(&self, f: &Features, out: &mut [f32]) {
        let k = self.labels.len();
        out.copy_from_slice(&self.bias);
        for &(b, v) in f {
            let row = &self.weights[b as usize * k..(b as usize + 1) * k];
            for (o, w) in out.iter_mut().zip(row) {
                *o += w * v;
            }
        }
    }

    pub(crate) fn argmax(scores: &[f32]) -> usize {
        let mut best = 0;
        for (i, s) in scores.iter().enumerate() {
            if *s > scores[best] {
                best = i;
            }
        }
        best
    }

    /// The most likely label's index.
    pub fn predict_index(&self, text: &str) -> usize {
        let mut scores = vec![0.0; self.labels.len()];
        self.scores_into(&self.config.features.extract(text), &mut scores);
        Self::argmax(&scores)
    }

    pub fn predict(&self, text: &str) -> Prediction {
        let mut scores = vec![0.0f32; self.labels.len()];
        self.scores_into(&self.config.features.extract(text), &mut scores);
        let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f64> = scores.iter().map(|s| f64::from(s - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        let mut ranked: Vec<(usize, f64)> = exp.iter().map(|e| e / sum).enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let top = ranked.iter().take(3).map(|(i, p)| (self.labels[*i].clone(), *p)).collect();
        Prediction { label: self.labels[ranked[0].0].clone(), confidence: ranked[0].1, top }
    }

    /// Metrics on labelled examples, and single-thread predictions per second
    /// (featurisation included). Unknown gold labels count as errors.
    pub fn evaluate(&self, examples: &[LabelledText]) -> (ClassificationMetrics, f64) {
        let started = Instant::now();
        let predicted: Vec<usize> = examples.iter().map(|e| self.predict_index(&e.text)).collect();
        let seconds = started.elapsed().as_secs_f64();
        let mut labels = self.labels.clone();
        let pairs: Vec<(usize, usize)> = examples
            .iter()
            .zip(predicted)
            .map(|(e, p)| {
                let gold = labels.iter().position(|l| *l == e.label).unwrap_or_else(|| {
                    labels.push(e.label.clone());
                    labels.len() - 1
                });
                (gold, p)
            })
            .collect();
        let per_second = if seconds > 0.0 { examples.len() as f64 / seconds } else { f64::INFINITY };
        (classification(&labels, &pairs), per_second)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let k = self.labels.len();
        let header = Header { labels: self.labels.clone(), config: self.config.clone() };
        let mut out = MAGIC.to_vec();
        out.extend(serde_json::to_vec(&header).unwrap_or_default());
        out.push(b'\n');
        for b in &self.bias {
            out.extend(b.to_le_bytes());
        }
        for (row, w) in self.weights.chunks(k).enumerate() {
            if w.iter().any(|x| *x != 0.0) {
                out.extend((row as u32).to_le_bytes());
                for x in w {
                    out.extend(x.to_le_bytes());
                }
            }
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ClassifierError> {
        let bad = |m: &str| ClassifierError::BadModel(m.to_string());
        let rest = bytes.strip_prefix(MAGIC).ok_or_else(|| bad("missing header"))?;
        let nl = rest.iter().position(|b| *b == b'\n').ok_or_else(|| bad("truncated header"))?;
        let header: Header = serde_json::from_slice(&rest[..nl]).map_err(|e| bad(&e.to_string()))?;
        let k = header.labels.len();
        if k < 2 || header.config.features.buckets_log2 > 26 {
            return Err(bad("implausible header"));
        }
        let mut body = &rest[nl + 1..];
        let f32_at = |body: &mut &[u8]| -> Result<f32, ClassifierError> {
            let (x, tail) = body.split_first_chunk::<4>().ok_or_else(|| bad("truncated weights"))?;
            *body = tail;
            Ok(f32::from_le_bytes(*x))
        };
        let bias = (0..k).map(|_| f32_at(&mut body)).collect::<Result<Vec<_>, _>>()?;
        let buckets = header.config.features.buckets();
        let mut weights = vec![0.0f32; buckets * k];
        while !body.is_empty() {
            let (row, tail) = body.split_first_chunk::<4>().ok_or_else(|| bad("truncated row"))?;
            body = tail;
            let row = u32::from_le_bytes(*row) as usize;
            if row >= buckets {
                return Err(bad("row out of range"));
            }
            for c in 0..k {
                weights[row * k + c] = f32_at(&mut body)?;
            }
        }
        Ok(Self { labels: header.labels, config: header.config, weights, bias })
    }
}
