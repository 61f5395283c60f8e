//! `wantloop eval classifier`: one JSON object of metrics for a saved model on
//! a test file, or for a model trained on the spot (`--train`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use wantloop_ml::classifier::{self, Classifier};

use super::train::{Hyper, train_with_progress};
use crate::StoreArgs;

#[derive(clap::Subcommand)]
pub enum Target {
    /// The demand classifier.
    Classifier(ClassifierArgs),
    /// A recommender, on `user<TAB>item` train and test files.
    Recommender(RecommenderArgs),
    /// Search, on a BEIR-format folder or a question-pair file.
    Search(SearchArgs),
    /// A learned ranker (LambdaMART), on `qid<TAB>label<TAB>feature…` or SVMlight train and test files.
    Ranker(RankerArgs),
    /// Image retrieval on a folder with `labels.csv` (`path,object_id,…`): every image queries the rest.
    Images(ImagesArgs),
    /// Question matching on `sentence1,sentence2,label` pair files (CSV, TSV with or without a
    /// header, or JSON Lines): the paraphrase scorer trained on --train, its pair classification
    /// and FAQ retrieval measured on --test.
    Qmatch(QmatchArgs),
    /// The assistant end to end: FAQ questions answered from the right entry, others refused.
    Ask(super::eval_ask::AskArgs),
}

#[derive(clap::Args)]
pub struct QmatchArgs {
    /// Labelled pairs the scorer learns from (and its threshold and re-ranking weight are chosen on).
    #[arg(long)]
    train: PathBuf,
    /// Labelled pairs it is measured on.
    #[arg(long)]
    test: PathBuf,
    /// Also train the re-ranker on negatives mined from the training file's
    /// own retrieval: each sentence's N closest BM25 neighbours (0: off).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=100))]
    mined: u16,
    #[arg(long)]
    json: bool,
}

fn eval_qmatch(a: QmatchArgs) -> anyhow::Result<ExitCode> {
    let r = wantloop_eval::qmatch::run(&a.train, &a.test, usize::from(a.mined))?;
    if a.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "pairs: accuracy {:.4}, F1 {:.4}, AUC {:.4} (threshold {:.3}); retrieval over {} entries, {} queries: \
             top-1 {:.4}, MRR@10 {:.4} (BM25 alone {:.4} / {:.4}); own sentence2 only: top-1 {:.4}",
            r.pairs.accuracy,
            r.pairs.f1,
            r.pairs.auc,
            r.pairs.threshold,
            r.retrieval.entries,
            r.retrieval.queries,
            r.retrieval.any.top1,
            r.retrieval.any.mrr_10,
            r.retrieval.bm25_any.top1,
            r.retrieval.bm25_any.mrr_10,
            r.retrieval.own.top1,
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Which visual features an image command uses.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ImageFeatures {
    /// The network when its weights are installed (`models install image`), else hand-crafted.
    Auto,
    HandCrafted,
    Learned,
}

#[derive(clap::Args)]
pub struct ImageFeatureArgs {
    #[arg(long, value_enum, default_value = "auto")]
    features: ImageFeatures,
    /// The network's weights file (default: the one installed in the data folder).
    #[arg(long)]
    model: Option<PathBuf>,
}

impl ImageFeatureArgs {
    /// The weights file to use, or none for hand-crafted features.
    pub fn model(&self, data_dir: &std::path::Path) -> anyhow::Result<Option<PathBuf>> {
        let installed = || self.model.clone().or_else(|| wantloop_image::learned::installed(data_dir));
        Ok(match self.features {
            ImageFeatures::HandCrafted => None,
            ImageFeatures::Auto => installed(),
            ImageFeatures::Learned => Some(installed().ok_or_else(|| {
                anyhow::anyhow!("no image model: run `wantloop models install image` or give --model")
            })?),
        })
    }
}

#[derive(clap::Args)]
pub struct ImagesArgs {
    /// Folder with `labels.csv` and the images it names.
    #[arg(long)]
    dir: PathBuf,
    /// Choose the block weights on the first half of the objects and report them on the second.
    #[arg(long)]
    tune: bool,
    #[command(flatten)]
    features: ImageFeatureArgs,
    /// Data folder holding the installed weights.
    #[arg(long, env = "WANTLOOP_DATA_DIR", default_value = "./wantloop-data")]
    data_dir: PathBuf,
    #[arg(long)]
    json: bool,
}

fn eval_images(a: ImagesArgs) -> anyhow::Result<ExitCode> {
    let opt = wantloop_eval::images::Options { model: a.features.model(&a.data_dir)?, tune: a.tune };
    let out = wantloop_eval::images::run(&a.dir, &opt)?;
    if a.json {
        println!("{out}");
    } else {
        println!(
            "{} images: mAP {:.4}, P@10 {:.4} ({}); ANN recall@10 {:.4} at {:.0} queries/s, built in {:.3} s",
            out["images"],
            out["map"].as_f64().unwrap_or_default(),
            out["p@10"].as_f64().unwrap_or_default(),
            out["features"].as_str().unwrap_or_default(),
            out["ann"]["recall@10"].as_f64().unwrap_or_default(),
            out["ann"]["queries_per_second"].as_f64().unwrap_or_default(),
            out["ann"]["build_seconds"].as_f64().unwrap_or_default(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
#[group(id = "data", required = true, args = ["beir", "pairs"])]
pub struct SearchArgs {
    /// BEIR folder: corpus.jsonl[.gz], queries.jsonl, qrels/test.tsv (qrels/train.tsv tunes the title boost).
    #[arg(long)]
    beir: Option<PathBuf>,
    /// Question pairs `sentence1,sentence2,label` (CSV, TSV or JSON Lines): each label-1 sentence1 is searched,
    /// as `GET /v1/search` does, among every distinct sentence2.
    #[arg(long)]
    pairs: Option<PathBuf>,
    /// With --pairs: weight of word terms (default: the search API's).
    #[arg(long, requires = "pairs")]
    words_weight: Option<f32>,
    /// With --pairs: weight of character-bigram terms (default: the search API's).
    #[arg(long, requires = "pairs")]
    bigram_weight: Option<f32>,
    #[arg(long)]
    json: bool,
}

fn eval_pairs(a: &SearchArgs, path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let defaults = wantloop_search::query::QueryWeights::default();
    let weights = wantloop_search::query::QueryWeights {
        words: a.words_weight.unwrap_or(defaults.words),
        bigrams: a.bigram_weight.unwrap_or(defaults.bigrams),
        ..defaults
    };
    let r = wantloop_eval::pairs::run(path, Some(weights))?;
    if a.json {
        let mut out = serde_json::to_value(&r)?;
        out["data"] = serde_json::json!(path.display().to_string());
        out["weights"] = serde_json::json!({"words": weights.words, "bigrams": weights.bigrams});
        out["protocol"] = serde_json::json!(
            "every distinct sentence2 indexed as an offer; each label-1 sentence1 searched through the search API's query builder (top 10); rank of the pair's own sentence2"
        );
        println!("{out}");
    } else {
        println!(
            "top-1 {:.4}, MRR@10 {:.4} over {} questions in a pool of {}; {} found nothing; {:.0} queries/s",
            r.top1, r.mrr_10, r.queries, r.pool, r.no_hits, r.queries_per_second
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn eval_search(a: SearchArgs) -> anyhow::Result<ExitCode> {
    let Some(beir) = &a.beir else {
        let pairs = a.pairs.clone().unwrap_or_default();
        return eval_pairs(&a, &pairs);
    };
    let r = wantloop_eval::beir::run(beir)?;
    if a.json {
        let mut out = serde_json::to_value(&r)?;
        out["data"] = serde_json::json!(beir.display().to_string());
        out["protocol"] = serde_json::json!(
            "BM25 (tantivy, k1 1.2, b 0.75) over title + text; title boost chosen on qrels/train.tsv; metrics on qrels/test.tsv; single thread"
        );
        println!("{out}");
    } else {
        println!(
            "nDCG@10 {:.4}, recall@100 {:.4} over {} queries; {:.0} queries/s; indexed {} documents in {:.2} s",
            r.ndcg_10, r.recall_100, r.queries, r.queries_per_second, r.documents, r.index_seconds
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct RecommenderArgs {
    /// Training interactions: `user<TAB>item` (further columns ignored).
    #[arg(long)]
    train: PathBuf,
    /// Test interactions, same format.
    #[arg(long)]
    test: PathBuf,
    /// Cut-off of the ranking metrics.
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// A model family, or auto: every family compared on a validation split of --train, within the budget.
    #[arg(long, default_value = "auto", value_parser = ["auto", "hybrid", "ease", "als", "rp3beta", "itemknn", "popularity"])]
    model: String,
    /// Seconds tuning may take (default: 5 s plus 40 s per million training interactions).
    #[arg(long)]
    budget_seconds: Option<f64>,
    /// Seed of the validation split used for tuning.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long)]
    json: bool,
}

fn eval_recommender(a: RecommenderArgs) -> anyhow::Result<ExitCode> {
    let protocol = wantloop_eval::recommender::Protocol {
        train: &a.train,
        test: &a.test,
        k: a.k,
        model: &a.model,
        seed: a.seed,
        budget_seconds: a.budget_seconds,
    };
    let out = wantloop_eval::recommender::run(&protocol)?;
    if a.json {
        println!("{out}");
    } else {
        let k = a.k;
        println!(
            "{}: P@{k} {:.4}, R@{k} {:.4}, NDCG@{k} {:.4} over {} users; tuning {:.2} s, fit {:.2} s",
            out["model"].as_str().unwrap_or_default(),
            out[format!("precision@{k}")].as_f64().unwrap_or_default(),
            out[format!("recall@{k}")].as_f64().unwrap_or_default(),
            out[format!("ndcg@{k}")].as_f64().unwrap_or_default(),
            out["users"],
            out["tune_seconds"].as_f64().unwrap_or_default(),
            out["fit_seconds"].as_f64().unwrap_or_default(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct RankerArgs {
    /// Training rows: `qid<TAB>label<TAB>feature…` with a header line naming the features, or
    /// SVMlight / LETOR (`label qid:Q 1:v 2:v …`, as MSLR-WEB and Yahoo ship).
    #[arg(long)]
    train: PathBuf,
    /// Test rows, same format and features.
    #[arg(long)]
    test: PathBuf,
    #[arg(long)]
    json: bool,
}

fn eval_ranker(a: RankerArgs) -> anyhow::Result<ExitCode> {
    let out = wantloop_eval::ranker::run(&a.train, &a.test, None)?;
    if a.json {
        println!("{out}");
    } else {
        println!(
            "lambdamart: NDCG@5 {:.4}, NDCG@10 {:.4}, MAP {:.4} over {} test queries; tuning {:.2} s, train {:.2} s",
            out["ndcg@5"].as_f64().unwrap_or_default(),
            out["ndcg@10"].as_f64().unwrap_or_default(),
            out["map"].as_f64().unwrap_or_default(),
            out["test"]["queries"],
            out["tune_seconds"].as_f64().unwrap_or_default(),
            out["train_seconds"].as_f64().unwrap_or_default(),
        );
    }
    Ok(ExitCode::SUCCESS)
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
    let a = match args.target {
        Target::Classifier(a) => a,
        Target::Recommender(r) => return tokio::task::block_in_place(|| eval_recommender(r)),
        Target::Search(s) => return tokio::task::block_in_place(|| eval_search(s)),
        Target::Ranker(r) => return tokio::task::block_in_place(|| eval_ranker(r)),
        Target::Images(i) => return tokio::task::block_in_place(|| eval_images(i)),
        Target::Qmatch(q) => return tokio::task::block_in_place(|| eval_qmatch(q)),
        Target::Ask(a) => return super::eval_ask::eval_ask(a).await,
    };
    let mut training = serde_json::Value::Null;
    let model = if let Some(path) = &a.model {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Classifier::from_bytes(&bytes)?
    } else if let Some(id) = a.model_id {
        let engine = a.store.open().await?;
        Classifier::from_bytes(&engine.store().model_blob(id).await?)?
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
    let mut out = tokio::task::block_in_place(|| wantloop_eval::classifier::run(&model, &a.test))?;
    out["data"] = serde_json::json!({
        "train": a.train.as_ref().map(|p| p.display().to_string()),
        "dev": a.dev.as_ref().map(|p| p.display().to_string()),
        "test": a.test.display().to_string(),
    });
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
            out["accuracy"].as_f64().unwrap_or_default(),
            out["macro_f1"].as_f64().unwrap_or_default(),
            out["examples"],
            out["predictions_per_second"].as_f64().unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
