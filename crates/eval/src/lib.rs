//! Evaluation harnesses: each reads public data files, runs one of wantloop's
//! components under a stated protocol, and returns a report that `wantloop
//! eval` prints as one JSON object.
//!
//! Architecture invariant: nothing in the serving path depends on this crate;
//! test data is only ever scored, never used to choose a parameter.

pub mod beir;
pub mod classifier;
pub mod images;
pub mod pair_file;
pub mod pairs;
pub mod qmatch;
pub mod ranker;
pub mod recommender;
pub mod simulate;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Format(String),
    #[error(transparent)]
    Search(#[from] wantloop_search::SearchError),
    #[error(transparent)]
    Classifier(#[from] wantloop_ml::classifier::ClassifierError),
    #[error(transparent)]
    Recommender(#[from] wantloop_ml::recommender::RecommenderError),
    #[error(transparent)]
    Ranker(#[from] wantloop_ml::ranker::RankerError),
    #[error(transparent)]
    Image(#[from] wantloop_image::ImageError),
    #[error(transparent)]
    Paraphrase(#[from] wantloop_ml::paraphrase::ParaphraseError),
}

/// Peak resident memory of this process, from /proc (Linux only).
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
