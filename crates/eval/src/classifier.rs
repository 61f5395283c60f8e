//! The classifier on a labelled test file: accuracy, macro-F1, the confusion
//! matrix and prediction speed, with the data and protocol named.

use std::path::Path;

use wantloop_ml::Classifier;
use wantloop_ml::classifier;

use crate::EvalError;

/// Metrics of `model` on the examples of `test` as one JSON object.
pub fn run(model: &Classifier, test: &Path) -> Result<serde_json::Value, EvalError> {
    let examples = classifier::read_file(test)?;
    let (metrics, per_second) = model.evaluate(&examples);
    let mut out = serde_json::to_value(&metrics).map_err(|e| EvalError::Format(e.to_string()))?;
    out["predictions_per_second"] = serde_json::json!(per_second);
    out["params"] = serde_json::to_value(model.config()).map_err(|e| EvalError::Format(e.to_string()))?;
    out["seed"] = serde_json::json!(model.config().seed);
    out["protocol"] = serde_json::json!("train on train (epoch chosen on dev when given); metrics on test only");
    Ok(out)
}
