//! Text → sparse hashed features: jieba words, word bigrams, and character
//! n-grams (which catch what segmentation splits wrongly), each hashed into a
//! fixed number of buckets, deduplicated, and scaled to unit length.
//!
//! The hash is FNV-1a written out here rather than `std`'s hasher, whose output
//! may change between Rust releases: saved models must keep meaning the same.

use serde::{Deserialize, Serialize};

/// Which features to extract; saved with the model so prediction matches training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// log₂ of the number of hash buckets.
    pub buckets_log2: u32,
    /// Character n-grams from 1 up to this length (0 for none).
    pub char_ngrams: usize,
    /// Word n-grams from 1 up to this length.
    pub word_ngrams: usize,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self { buckets_log2: 20, char_ngrams: 3, word_ngrams: 1 }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

pub(crate) fn fnv(ns: u8, parts: &[&str]) -> u64 {
    let mut h = FNV_OFFSET ^ u64::from(ns);
    h = h.wrapping_mul(FNV_PRIME);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h ^= 0x1f;
            h = h.wrapping_mul(FNV_PRIME);
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    h
}

/// FNV-1a of arbitrary bytes, as hex: the training-data fingerprint.
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut h = FNV_OFFSET;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    format!("{h:016x}")
}

/// Sparse features: (bucket, value), buckets unique, values of unit L2 norm.
pub type Features = Vec<(u32, f32)>;

impl FeatureConfig {
    pub fn buckets(&self) -> usize {
        1usize << self.buckets_log2
    }

    pub fn extract(&self, text: &str) -> Features {
        let mask = (1u64 << self.buckets_log2) - 1;
        let mut buckets: Vec<u32> = Vec::with_capacity(128);
        let words = wantloop_text::words(text);
        for n in 1..=self.word_ngrams.max(1) {
            for w in words.windows(n) {
                let parts: Vec<&str> = w.iter().map(String::as_str).collect();
                buckets.push((fnv(n as u8, &parts) & mask) as u32);
            }
        }
        if self.char_ngrams > 0 {
            let norm = wantloop_text::normalise(text);
            let chars: Vec<char> = norm.chars().filter(|c| c.is_alphanumeric()).collect();
            let mut buf = String::new();
            for n in 1..=self.char_ngrams {
                for w in chars.windows(n) {
                    buf.clear();
                    buf.extend(w);
                    buckets.push((fnv(100 + n as u8, &[&buf]) & mask) as u32);
                }
            }
        }
        buckets.sort_unstable();
        buckets.dedup();
        let value = if buckets.is_empty() { 0.0 } else { 1.0 / (buckets.len() as f32).sqrt() };
        buckets.into_iter().map(|b| (b, value)).collect()
    }
}

/// Extracts features of many texts on all cores, in input order.
pub fn extract_all(config: &FeatureConfig, texts: &[&str]) -> Vec<Features> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if threads < 2 || texts.len() < 1_000 {
        return texts.iter().map(|t| config.extract(t)).collect();
    }
    let chunk = texts.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = texts
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|t| config.extract(t)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_unique_unit_length_and_stable() {
        let c = FeatureConfig::default();
        let f = c.extract("卡佩罗：告诉你德国脚生猛的原因");
        assert!(f.len() > 20);
        assert!(f.windows(2).all(|w| w[0].0 < w[1].0));
        let norm: f32 = f.iter().map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        assert_eq!(f, c.extract("卡佩罗：告诉你德国脚生猛的原因"));
        // A fixed hash: this value must never change, or saved models break.
        assert_eq!(fnv(1, &["足球"]), 0xd5f2_835e_b73f_59e9);
        assert!(c.extract("").is_empty());
        let texts: Vec<String> = (0..2_500).map(|i| format!("第{i}条新闻标题 title {i}")).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let serial: Vec<Features> = refs.iter().map(|t| c.extract(t)).collect();
        assert_eq!(extract_all(&c, &refs), serial);
    }
}
