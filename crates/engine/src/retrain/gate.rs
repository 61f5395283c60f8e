//! When a retrained model replaces the active one. Both models are scored on
//! the same held-out examples (or users), so the comparison is paired: the
//! mean of the per-example differences and its standard error. A new model
//! goes live when it is no worse than the active one beyond noise (the mean
//! difference is at least −2 standard errors), or, when an operator chose the
//! active model, only when it is better beyond noise (more than +2 standard
//! errors). Fewer held-out examples than the configured minimum decide
//! nothing, so a handful of rows where 1.0 ≥ 1.0 can never swap a model.
//! Where a built-in default serves instead of a model (the assistant's
//! lexical confidence), a model replaces it only when better beyond noise,
//! as it would an operator's choice ([`decide_against`]); [`guard`] adds a
//! second held-out set the new model must not lose on.

use serde::{Deserialize, Serialize};

/// How many standard errors count as "beyond noise" (about 95% one-sided).
const Z: f64 = 2.0;

/// The paired comparison of a new model with the active one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comparison {
    /// Held-out examples (classifier) or users (recommender) both were scored on.
    pub held_out: usize,
    /// Mean per-example score of the new model minus the active one's.
    pub difference: f64,
    /// Standard error of that mean.
    pub standard_error: f64,
}

impl Comparison {
    /// Compares per-example scores of the new and the active model on the same
    /// held-out examples (1/0 for a right/wrong class; NDCG for a user).
    pub fn paired(new: &[f64], old: &[f64]) -> Self {
        let n = new.len().min(old.len());
        if n == 0 {
            return Self { held_out: 0, difference: 0.0, standard_error: 0.0 };
        }
        let diffs: Vec<f64> = new.iter().zip(old).map(|(a, b)| a - b).collect();
        let mean = diffs.iter().sum::<f64>() / n as f64;
        let var = if n > 1 { diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1) as f64 } else { 0.0 };
        Self { held_out: n, difference: mean, standard_error: (var / n as f64).sqrt() }
    }

    fn no_worse(&self) -> bool {
        self.difference >= -Z * self.standard_error
    }

    fn better(&self) -> bool {
        self.difference > Z * self.standard_error
    }
}

/// What the gate decided, and why, in words an operator can check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    pub activate: bool,
    pub reason: String,
    /// `None` when there was no active model to compare with.
    pub comparison: Option<Comparison>,
}

/// The active model, as the gate needs to know it.
pub struct Incumbent<'a> {
    /// Its per-example scores on the held-out set (`None`: it cannot be scored,
    /// e.g. an unreadable blob, which is no bar to replacing it).
    pub scores: Option<&'a [f64]>,
    /// An operator made it active (a choice only a real gain overrides).
    pub chosen_by_operator: bool,
}

pub fn decide(new: &[f64], incumbent: Option<Incumbent<'_>>, min_held_out: usize) -> Decision {
    decide_against(new, incumbent, min_held_out, None)
}

/// [`decide`], where `beats_default` names a built-in default that serves
/// instead of a model (the assistant's lexical confidence): a model replaces
/// it only when better beyond noise, as it would an operator's choice.
pub fn decide_against(
    new: &[f64],
    incumbent: Option<Incumbent<'_>>,
    min_held_out: usize,
    beats_default: Option<&str>,
) -> Decision {
    let Some(Incumbent { scores: Some(old), chosen_by_operator }) = incumbent else {
        return Decision {
            activate: true,
            reason: "no active model that can be scored: the new model is the first".into(),
            comparison: None,
        };
    };
    let c = Comparison::paired(new, old);
    let numbers =
        format!("difference {:+.4} ± {:.4} (1 s.e.) on {} held out", c.difference, c.standard_error, c.held_out);
    let (activate, reason) = if c.held_out < min_held_out {
        (false, format!("only {} held out, fewer than the {min_held_out} needed to compare", c.held_out))
    } else if let Some(default) = beats_default {
        if c.better() {
            (true, format!("better than {default} beyond noise: {numbers}"))
        } else {
            (false, format!("not better than {default} beyond noise, which serves until one is: {numbers}"))
        }
    } else if chosen_by_operator {
        if c.better() {
            (true, format!("better than the operator's choice beyond noise: {numbers}"))
        } else {
            (
                false,
                format!(
                    "the active model was chosen by an operator and the new one is not better beyond noise: {numbers}"
                ),
            )
        }
    } else if c.no_worse() {
        (true, format!("no worse than the active model beyond noise: {numbers}"))
    } else {
        (false, format!("worse than the active model beyond noise: {numbers}"))
    };
    Decision { activate, reason, comparison: Some(c) }
}

/// A second check on a decision to activate: held-out cases the new model
/// must be no worse on beyond noise (the assistant's held-out phrasings),
/// judged only when there are at least `min_held_out` of them.
pub fn guard(decision: &mut Decision, on: &Comparison, min_held_out: usize, what: &str) {
    if !decision.activate {
        return;
    }
    let numbers = format!("difference {:+.4} ± {:.4} (1 s.e.) on {}", on.difference, on.standard_error, on.held_out);
    if on.held_out < min_held_out {
        decision.reason = format!("{}; {what} too few to judge ({numbers})", decision.reason);
    } else if !on.no_worse() {
        decision.activate = false;
        decision.reason = format!("{}; but worse on {what} beyond noise: {numbers}", decision.reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(right: usize, n: usize) -> Vec<f64> {
        (0..n).map(|i| if i < right { 1.0 } else { 0.0 }).collect()
    }

    fn incumbent(scores: &[f64], operator: bool) -> Option<Incumbent<'_>> {
        Some(Incumbent { scores: Some(scores), chosen_by_operator: operator })
    }

    #[test]
    fn paired_standard_error_matches_the_hand_computation() {
        // 3 examples only the new model gets right, 1 only the old one: d = 0.2,
        // sample variance of the diffs {1,1,1,-1,0 × 6} over n - 1.
        let new = [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0];
        let old = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0];
        let c = Comparison::paired(&new, &old);
        assert!((c.difference - 0.2).abs() < 1e-12);
        let var = (3.0 * 0.8f64.powi(2) + 1.2f64.powi(2) + 6.0 * 0.04) / 9.0;
        assert!((c.standard_error - (var / 10.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn a_built_in_default_yields_only_to_a_gain_beyond_noise() {
        let old = outcomes(600, 1000);
        let level = decide_against(&outcomes(600, 1000), incumbent(&old, false), 200, Some("the lexical confidence"));
        assert!(!level.activate && level.reason.contains("not better than the lexical confidence"), "{level:?}");
        let better = decide_against(&outcomes(700, 1000), incumbent(&old, false), 200, Some("the lexical confidence"));
        assert!(better.activate, "{better:?}");
    }

    #[test]
    fn a_guard_vetoes_a_loss_beyond_noise_only_on_enough_cases() {
        let pass = || decide(&outcomes(700, 1000), incumbent(&outcomes(600, 1000), false), 200);
        let worse = Comparison::paired(&outcomes(300, 1000), &outcomes(600, 1000));
        let mut d = pass();
        guard(&mut d, &worse, 30, "the phrasings");
        assert!(!d.activate && d.reason.contains("worse on the phrasings beyond noise"), "{d:?}");
        let mut d = pass();
        guard(&mut d, &Comparison::paired(&outcomes(0, 5), &outcomes(5, 5)), 30, "the phrasings");
        assert!(d.activate && d.reason.contains("too few to judge"), "{d:?}");
        let mut d = pass();
        guard(&mut d, &Comparison::paired(&outcomes(599, 1000), &outcomes(600, 1000)), 30, "the phrasings");
        assert!(d.activate, "{d:?}");
    }

    #[test]
    fn a_tiny_held_out_set_decides_nothing() {
        let d = decide(&[1.0; 5], incumbent(&[1.0; 5], false), 200);
        assert!(!d.activate, "{d:?}");
        assert!(d.reason.contains("only 5 held out"));
    }

    #[test]
    fn a_clear_loss_is_refused_and_noise_is_tolerated() {
        let old = outcomes(900, 1000);
        assert!(!decide(&outcomes(700, 1000), incumbent(&old, false), 200).activate);
        // Same predictions but two: within noise.
        let mut new = old.clone();
        new[0] = 0.0;
        new[999] = 1.0;
        new[1] = 0.0;
        assert!(decide(&new, incumbent(&old, false), 200).activate);
    }

    #[test]
    fn an_operators_choice_yields_only_to_a_real_gain() {
        let old = outcomes(800, 1000);
        let same = old.clone();
        assert!(!decide(&same, incumbent(&old, true), 200).activate);
        let better = outcomes(900, 1000);
        let d = decide(&better, incumbent(&old, true), 200);
        assert!(d.activate, "{d:?}");
        assert!(d.comparison.unwrap().difference > 0.09);
    }

    #[test]
    fn without_a_scorable_incumbent_the_new_model_goes_live() {
        assert!(decide(&[0.0; 3], None, 200).activate);
        assert!(decide(&[0.0; 3], Some(Incumbent { scores: None, chosen_by_operator: true }), 200).activate);
    }
}
