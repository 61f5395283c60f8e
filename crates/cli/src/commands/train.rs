//! `wantloop train classifier`: trains the demand classifier from a labelled
//! file, writes it to a file and/or registers it in the model registry.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use wantloop_engine::InteractionWeights;
use wantloop_ml::classifier::{self, Classifier, FeatureConfig, LabelledText, TrainConfig, TrainReport};
use wantloop_store::NewModel;

use crate::StoreArgs;

#[derive(clap::Subcommand)]
pub enum Target {
    /// The demand classifier (text → category).
    Classifier(ClassifierArgs),
    /// The offer recommender, from the store's interactions or a file.
    Recommender(RecommenderArgs),
    /// The match ranker, from the outcomes of the store's matches (time-slice check against what serves).
    Ranker(RankerArgs),
    /// The assistant's paraphrase scorer: from the FAQ's own phrasings, the operators' answers, and --pairs.
    Paraphrase(ParaphraseArgs),
}

#[derive(clap::Args)]
pub struct ParaphraseArgs {
    /// More labelled pairs, `sentence1,sentence2,label` (CSV as the BQ corpus, TSV with or without a header, or JSON Lines).
    #[arg(long)]
    pairs: Option<PathBuf>,
    /// Make the new scorer active (an operator's choice: a gated retrain replaces it only when better beyond noise).
    #[arg(long)]
    activate: bool,
    /// As the scheduler does: judge the new scorer on the newest fifth of the
    /// operators' answers against what serves, and activate it only through the gate.
    #[arg(long, conflicts_with_all = ["pairs", "activate"])]
    gated: bool,
    #[command(flatten)]
    store: StoreArgs,
}

async fn train_paraphrase(a: ParaphraseArgs) -> anyhow::Result<ExitCode> {
    if a.gated {
        let engine = a.store.open().await?;
        let o = engine.retrain_paraphrase().await?;
        println!(
            "trained paraphrase scorer on {} pairs: accuracy {:.4} on the {} newest answered questions ({}: {:.4}); registered as {} (id {}); {}",
            o.examples,
            o.score,
            o.model.metrics["held_out_questions"],
            o.model.metrics["previous"].as_str().unwrap_or("what serves"),
            o.previous_score.unwrap_or_default(),
            o.model.tag(),
            o.model.id,
            if o.activated { "active".to_string() } else { format!("not activated: {}", o.decision.reason) }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let extra = match &a.pairs {
        Some(path) => wantloop_eval::pair_file::read(path)?.pairs,
        None => Vec::new(),
    };
    let engine = a.store.open().await?;
    let t = engine.train_paraphrase(extra, a.activate).await?;
    println!(
        "trained paraphrase scorer on {} pairs ({} from the FAQ, {} from operators, {} from --pairs) in {:.1} s: \
         out-of-fold accuracy {:.4}, threshold {:.3}; registered as {} (id {}){}",
        t.report.pairs,
        t.faq_pairs,
        t.operator_pairs,
        t.extra_pairs,
        t.report.seconds,
        t.report.out_of_fold_accuracy,
        t.report.threshold,
        t.model.tag(),
        t.model.id,
        if t.activated { ", active" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct RankerArgs {
    #[command(flatten)]
    store: StoreArgs,
}

async fn train_ranker(a: RankerArgs) -> anyhow::Result<ExitCode> {
    let engine = a.store.open().await?;
    let o = engine.retrain_ranker().await?;
    println!(
        "trained ranker on {} labelled matches: NDCG@10 {:.4} on the newest demands ({}: {:.4}); registered as {} (id {}); {}",
        o.examples,
        o.score,
        o.model.metrics["previous"].as_str().unwrap_or("what serves"),
        o.previous_score.unwrap_or_default(),
        o.model.tag(),
        o.model.id,
        if o.activated { "active".to_string() } else { format!("not activated: {}", o.decision.reason) }
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct RecommenderArgs {
    /// Train on the store's interactions (held-out check; activated if not worse).
    #[arg(long, conflicts_with = "train")]
    from_store: bool,
    /// Train on a `user<TAB>item` file instead.
    #[arg(long)]
    train: Option<PathBuf>,
    /// auto (EASE up to 8,000 items, else ALS), ease, als, itemknn or popularity.
    #[arg(long, default_value = "auto", value_parser = ["auto", "hybrid", "ease", "als", "rp3beta", "itemknn", "popularity"])]
    model: String,
    /// Make a file-trained model the active recommender.
    #[arg(long, requires = "train")]
    activate: bool,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Interaction kinds' weights, e.g. `view=0,click=1` (0 leaves a kind out).
    #[arg(long, default_value = "")]
    interaction_weights: String,
    #[command(flatten)]
    store: StoreArgs,
}

async fn train_recommender(a: RecommenderArgs) -> anyhow::Result<ExitCode> {
    use wantloop_ml::recommender::{self, Recommender};
    let mut config = a.store.engine_config()?;
    config.retrain.train.seed = a.seed;
    config.retrain.interaction_weights =
        InteractionWeights::parse(&a.interaction_weights).map_err(|e| anyhow::anyhow!("--interaction-weights: {e}"))?;
    let engine = wantloop_engine::Engine::open(&config).await?;
    let store = engine.store();
    if a.from_store {
        let o = engine.retrain_recommender(&a.model).await?;
        println!(
            "trained recommender on {} interactions: NDCG@10 {:.4} on held-out items (active model: {}); registered as {} (id {}){}",
            o.examples,
            o.score,
            o.previous_score.map_or("none".to_string(), |p| format!("{p:.4}")),
            o.model.tag(),
            o.model.id,
            if o.activated { ", active" } else { ", not activated (worse than the active model)" }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(path) = &a.train else { anyhow::bail!("give --from-store or --train FILE") };
    let x = recommender::read_interactions(path)?;
    let selection =
        tokio::task::block_in_place(|| recommender::select(&a.model, &x, 10, a.seed, recommender::default_budget(&x)))?;
    let (params, validation) = (selection.params.clone(), selection.validation.clone());
    let started = std::time::Instant::now();
    let model = tokio::task::block_in_place(|| Recommender::fit(&x, &params))?;
    let seconds = started.elapsed().as_secs_f64();
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let info = store
        .register_model(&NewModel {
            kind: "recommender".into(),
            data_hash: classifier::fingerprint(&data),
            metrics: serde_json::json!({ "validation_ndcg@10": validation.ndcg }),
            params: serde_json::json!({
                "model": params, "users": x.n_users(), "items": x.n_items(), "fit_seconds": seconds,
                "selection": { "reason": selection.reason, "trials": selection.trials.len(), "skipped": selection.skipped },
            }),
            blob: model.to_bytes(),
        })
        .await?;
    if a.activate {
        engine.activate_model(info.id, None).await?;
    }
    println!(
        "trained recommender ({}) on {} interactions of {} users with {} items in {seconds:.2} s; validation NDCG@10 {:.4}; registered as {} (id {}){}",
        params.name(),
        x.len(),
        x.n_users(),
        x.n_items(),
        validation.ndcg,
        info.tag(),
        info.id,
        if a.activate { ", active" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    target: Target,
}

/// Hyper-parameters shared by `train` and `eval`.
#[derive(clap::Args, Clone)]
pub struct Hyper {
    /// Passes over the training data.
    #[arg(long, default_value_t = TrainConfig::default().epochs)]
    pub epochs: u32,
    /// Initial learning rate (decays linearly to 0).
    #[arg(long, default_value_t = TrainConfig::default().lr)]
    pub lr: f32,
    /// log₂ of the number of feature hash buckets.
    #[arg(long, default_value_t = FeatureConfig::default().buckets_log2, value_parser = clap::value_parser!(u32).range(10..=26))]
    pub buckets_log2: u32,
    /// Character n-grams up to this length (0 = none).
    #[arg(long, default_value_t = FeatureConfig::default().char_ngrams)]
    pub char_ngrams: usize,
    /// Word n-grams up to this length.
    #[arg(long, default_value_t = FeatureConfig::default().word_ngrams)]
    pub word_ngrams: usize,
    #[arg(long, default_value_t = TrainConfig::default().seed)]
    pub seed: u64,
}

impl Hyper {
    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            features: FeatureConfig {
                buckets_log2: self.buckets_log2,
                char_ngrams: self.char_ngrams,
                word_ngrams: self.word_ngrams.max(1),
            },
            epochs: self.epochs.max(1),
            lr: self.lr,
            seed: self.seed,
        }
    }
}

#[derive(clap::Args)]
pub struct ClassifierArgs {
    /// Training file: TSV `text<TAB>label` or JSONL `{"text":…,"label":…}`.
    #[arg(long)]
    train: PathBuf,
    /// Development file (same format): keeps the epoch that scores best on it.
    #[arg(long)]
    dev: Option<PathBuf>,
    /// Write the model to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not add the model to the store's registry.
    #[arg(long)]
    no_register: bool,
    /// Make the registered model the active classifier.
    #[arg(long, conflicts_with = "no_register")]
    activate: bool,
    #[command(flatten)]
    hyper: Hyper,
    #[command(flatten)]
    store: StoreArgs,
}

/// Trains with a progress bar; shared with `eval classifier --train`.
pub fn train_with_progress(
    train: &[LabelledText],
    dev: Option<&[LabelledText]>,
    config: &TrainConfig,
) -> anyhow::Result<(Classifier, TrainReport)> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("  training [{bar:40}] {percent}% (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let result = classifier::train(train, dev, config, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    Ok(result?)
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let a = match args.target {
        Target::Classifier(a) => a,
        Target::Recommender(r) => return train_recommender(r).await,
        Target::Ranker(r) => return train_ranker(r).await,
        Target::Paraphrase(p) => return train_paraphrase(p).await,
    };
    let all = classifier::read_file(&a.train)?;
    // A registered model leaves out the store's fixed held-out tenth, so that
    // retrains compare with it on examples neither was trained on.
    let train: Vec<LabelledText> = if a.no_register {
        all.clone()
    } else {
        all.iter().filter(|e| !wantloop_engine::retrain::is_held_out(&e.text)).cloned().collect()
    };
    let dev = a.dev.as_deref().map(classifier::read_file).transpose()?;
    let config = a.hyper.config();
    let (model, report) = train_with_progress(&train, dev.as_deref(), &config)?;
    let bytes = model.to_bytes();
    if let Some(out) = &a.out {
        std::fs::write(out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    }
    let mut registered = String::new();
    if !a.no_register {
        let engine = a.store.open().await?;
        let store = engine.store();
        let data = std::fs::read(&a.train).with_context(|| format!("cannot read {}", a.train.display()))?;
        let source = a.train.display().to_string();
        let kept = wantloop_engine::retrain::keep_as_base(store.as_ref(), &all, &source).await?;
        let info = store
            .register_model(&NewModel {
                kind: "classifier".into(),
                data_hash: classifier::fingerprint(&data),
                metrics: serde_json::json!({ "dev_accuracy": report.dev_accuracy }),
                params: serde_json::json!({
                    "train": config, "examples": report.examples, "labels": model.labels(),
                    "best_epoch": report.best_epoch, "seconds": report.seconds,
                    "train_file": source, "trigger": "cli",
                    "labels_up_to": store.newest_label_id().await?,
                }),
                blob: bytes,
            })
            .await?;
        if a.activate {
            engine.activate_model(info.id, None).await?;
        }
        registered = format!(
            "; {kept} new examples kept in the store for retraining; registered as {} (id {}){}",
            info.tag(),
            info.id,
            if a.activate { ", active" } else { "" }
        );
    }
    let dev_acc = report.dev_accuracy.map_or("n/a".to_string(), |a| format!("{a:.4}"));
    println!(
        "trained classifier: {} examples, {} labels, dev accuracy {dev_acc}, {:.2} s{}{registered}",
        report.examples,
        report.labels,
        report.seconds,
        a.out.as_ref().map(|p| format!(", saved to {}", p.display())).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
