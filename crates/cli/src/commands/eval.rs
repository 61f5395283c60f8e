//! `wantloop eval classifier`: one JSON object of metrics for a saved model on
//! a test file, or for a model trained on the spot (`--train`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use wantloop_ml::classifier::{self, Classifier};
use wantloop_store::{SqlStore, Store};

use super::train::{Hyper, train_with_progress};
use crate::StoreArgs;

#[derive(clap::Subcommand)]
pub enum Target {
    /// The demand classifier.
    Classifier(ClassifierArgs),
}

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    target: Target,
}

#[derive(clap::Args)]
pub struct ClassifierArgs {
    /// A model file written by `train classifier --out`.
    #[arg(long, conflicts_with_all = ["train", "model_id"])]
    model: Option<PathBuf>,
    /// A model in the store's registry.
    #[arg(long, conflicts_with = "train")]
    model_id: Option<i64>,
    /// Train on this file first (then `train_seconds` is reported too).
    #[arg(long)]
    train: Option<PathBuf>,
    /// Development file for epoch selection when training.
    #[arg(long, requires = "train")]
    dev: Option<PathBuf>,
    /// Labelled test file (TSV or JSONL).
    #[arg(long)]
    test: PathBuf,
    /// Print one JSON object (the default output is a one-line summary).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    hyper: Hyper,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Target::Classifier(a) = args.target;
    let test = classifier::read_file(&a.test)?;
    let mut training = serde_json::Value::Null;
    let model = if let Some(path) = &a.model {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Classifier::from_bytes(&bytes)?
    } else if let Some(id) = a.model_id {
        let store = SqlStore::connect(&a.store.url()?).await?;
        Classifier::from_bytes(&store.model_blob(id).await?)?
    } else if let Some(train_path) = &a.train {
        let train = classifier::read_file(train_path)?;
        let dev = a.dev.as_deref().map(classifier::read_file).transpose()?;
        let (model, report) = train_with_progress(&train, dev.as_deref(), &a.hyper.config())?;
        training = serde_json::json!({
            "train_seconds": report.seconds, "train_examples": report.examples,
            "dev_accuracy": report.dev_accuracy, "best_epoch": report.best_epoch,
        });
        model
    } else {
        anyhow::bail!("give --model FILE, --model-id ID, or --train FILE");
    };
    let (metrics, per_second) = model.evaluate(&test);
    let mut out = serde_json::to_value(&metrics)?;
    out["predictions_per_second"] = serde_json::json!(per_second);
    out["params"] = serde_json::to_value(model.config())?;
    out["seed"] = serde_json::json!(model.config().seed);
    out["data"] = serde_json::json!({
        "train": a.train.as_ref().map(|p| p.display().to_string()),
        "dev": a.dev.as_ref().map(|p| p.display().to_string()),
        "test": a.test.display().to_string(),
    });
    out["protocol"] = serde_json::json!("train on train (epoch chosen on dev when given); metrics on test only");
    if let serde_json::Value::Object(t) = training {
        for (k, v) in t {
            out[k] = v;
        }
    }
    if a.json {
        println!("{out}");
    } else {
        println!(
            "accuracy {:.4}, macro-F1 {:.4} on {} examples; {:.0} predictions/s",
            metrics.accuracy, metrics.macro_f1, metrics.examples, per_second
        );
    }
    Ok(ExitCode::SUCCESS)
}
