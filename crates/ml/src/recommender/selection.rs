//! Model selection on evidence: every family is scored on a validation split
//! carved from the training data (a seeded 10% of each user's items, at most
//! 3,000 users scored), never on test data. Families are tried cheapest first
//! (popularity, item-kNN, RP3beta, EASE, ALS, then the EASE + ALS blend)
//! within a time budget: a family whose estimated cost would overrun it is
//! skipped and the report says so. The best setting of each of the three
//! leading families is then scored on two more splits, and the choice is made
//! on the mean. The size of the catalogue decides nothing by itself: a
//! threshold chosen on one catalogue is no evidence about another.

use std::time::Instant;

use serde::Serialize;

use super::data::Interactions;
use super::evaluation::EvalReport;
use super::search::{Search, carve};
use super::{Params, RecommenderError};

/// One setting tried on validation.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    pub params: Params,
    /// NDCG@k on the main validation split.
    #[serde(rename = "validation_ndcg")]
    pub ndcg: f64,
    /// NDCG@k on the extra validation splits, for the finalists.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_splits: Vec<f64>,
    /// Fit plus validation scoring on the main split.
    pub seconds: f64,
    #[serde(skip)]
    pub(super) report: Option<EvalReport>,
}

impl Trial {
    /// The mean NDCG@k over the main split and the first `extra` extra splits.
    pub(super) fn mean(&self, extra: usize) -> f64 {
        (self.ndcg + self.extra_splits[..extra].iter().sum::<f64>()) / (1 + extra) as f64
    }
}

/// What selection tried, what it skipped and why, and what it chose.
#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    pub params: Params,
    pub validation: EvalReport,
    pub trials: Vec<Trial>,
    /// Families not tried, each with the reason.
    pub skipped: Vec<(String, String)>,
    pub reason: String,
    pub budget_seconds: f64,
    pub seconds: f64,
    pub validation_users: usize,
}

/// The default tuning budget: 5 s, plus 40 s per million interactions (a
/// 100,000-interaction catalogue tunes and fits in under 10 s, 10 million in under 10 minutes).
pub fn default_budget(train: &Interactions) -> f64 {
    5.0 + 40.0 * train.len() as f64 / 1e6
}

/// Tunes `kind` (`auto`: every family) on a validation split of `train`
/// with the default budget; returns the chosen setting, its validation
/// report and the seconds tuning took.
pub fn tune(
    kind: &str,
    train: &Interactions,
    k: usize,
    seed: u64,
) -> Result<(Params, EvalReport, f64), RecommenderError> {
    let s = select(kind, train, k, seed, default_budget(train))?;
    Ok((s.params, s.validation, s.seconds))
}

pub fn select(
    kind: &str,
    train: &Interactions,
    k: usize,
    seed: u64,
    budget_seconds: f64,
) -> Result<Selection, RecommenderError> {
    const FAMILIES: [&str; 6] = ["popularity", "itemknn", "rp3beta", "ease", "als", "hybrid"];
    if kind != "auto" && !FAMILIES.contains(&kind) {
        return Err(RecommenderError::BadModel(format!("unknown model kind {kind:?}")));
    }
    let started = Instant::now();
    let (fit_part, validation) = carve(train, seed);
    let mut s = Search {
        fit: &fit_part,
        validation: &validation,
        full: train,
        extra: Vec::new(),
        k,
        seed,
        started,
        budget: budget_seconds,
        trials: Vec::new(),
        skipped: Vec::new(),
        best_of: Default::default(),
        auto: kind == "auto",
    };
    let families: Vec<&str> = if kind == "auto" { FAMILIES.to_vec() } else { vec![kind] };
    for family in families {
        // Popularity costs next to nothing and is always there to fall back on.
        let forced = kind != "auto" || family == "popularity";
        s.family(family, forced)?;
    }
    let (finalists, splits) = s.final_round()?;
    let best = finalists[0].clone();
    let others: Vec<String> =
        finalists[1..].iter().map(|t| format!("{} {:.4}", t.params.name(), t.mean(splits - 1))).collect();
    let reason = format!(
        "{} had the best validation NDCG@{k} ({:.4}, mean over {splits} split{}) of {} settings tried{}",
        best.params.name(),
        best.mean(splits - 1),
        if splits == 1 { "" } else { "s" },
        s.trials.len(),
        if others.is_empty() { String::new() } else { format!("; other finalists: {}", others.join(", ")) }
    );
    let validation_users = validation.iter().filter(|v| !v.is_empty()).count();
    let report = best.report.clone().ok_or(RecommenderError::Empty)?;
    Ok(Selection {
        params: best.params,
        validation: report,
        trials: s.trials,
        skipped: s.skipped,
        reason,
        budget_seconds,
        seconds: started.elapsed().as_secs_f64(),
        validation_users,
    })
}
