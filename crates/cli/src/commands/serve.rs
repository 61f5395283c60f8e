//! `wantloop serve`: the HTTP API on the embedded store or PostgreSQL.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use wantloop_engine::{InteractionWeights, JobsConfig, MatchConfig, RetrainConfig};
use wantloop_server::{Application, ServerConfig};

use crate::StoreArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "WANTLOOP_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seconds between sweeps that expire due proposals and demands.
    #[arg(long, env = "WANTLOOP_EXPIRY_INTERVAL_SECS", default_value_t = 30)]
    expiry_interval_secs: u64,
    /// Demands classified with less confidence go to the review queue.
    #[arg(long, env = "WANTLOOP_REVIEW_THRESHOLD", default_value_t = 0.5)]
    review_threshold: f64,
    /// Seconds between checks for a newly activated model.
    #[arg(long, env = "WANTLOOP_MODEL_POLL_SECS", default_value_t = 10)]
    model_poll_secs: u64,
    /// Labelled base file for classifier retraining (TSV or JSONL); enables the retraining schedule.
    #[arg(long, env = "WANTLOOP_CLASSIFIER_BASE")]
    classifier_base: Option<std::path::PathBuf>,
    /// Retrain the classifier at least this often (hours).
    #[arg(long, env = "WANTLOOP_RETRAIN_EVERY_HOURS", default_value_t = 24.0)]
    retrain_every_hours: f64,
    /// …and as soon as this many new reviewed labels exist.
    #[arg(long, env = "WANTLOOP_RETRAIN_MIN_LABELS", default_value_t = 100)]
    retrain_min_labels: usize,
    /// No scheduled retrain of a model kind sooner than this after its last one (minutes).
    #[arg(long, env = "WANTLOOP_RETRAIN_MIN_INTERVAL_MINUTES", default_value_t = 10.0)]
    retrain_min_interval_minutes: f64,
    /// Held-out examples a classifier comparison needs before it can replace the active model.
    #[arg(long, env = "WANTLOOP_RETRAIN_MIN_HELD_OUT", default_value_t = 200)]
    retrain_min_held_out: usize,
    /// Held-out users a recommender comparison needs before it can replace the active model.
    #[arg(long, env = "WANTLOOP_RETRAIN_MIN_HELD_OUT_USERS", default_value_t = 50)]
    retrain_min_held_out_users: usize,
    /// Versions of each model kind kept besides the active one and the one before it.
    #[arg(long, env = "WANTLOOP_MODEL_KEEP_VERSIONS", default_value_t = 10)]
    model_keep_versions: u32,
    /// Interaction kinds' weights for the recommender, e.g. `view=0,click=1,accept=4,fulfil=8,rate=1`
    /// (0 leaves a kind out of training).
    #[arg(long, env = "WANTLOOP_INTERACTION_WEIGHTS", default_value = "")]
    interaction_weights: String,
    /// Do not run the retraining schedule in this process.
    #[arg(long, env = "WANTLOOP_NO_RETRAIN", value_parser = clap::builder::BoolishValueParser::new())]
    no_retrain: bool,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!((0.0..=1.0).contains(&args.review_threshold), "--review-threshold must be between 0 and 1");
    anyhow::ensure!(args.retrain_every_hours > 0.0, "--retrain-every-hours must be positive");
    let every = Duration::try_from_secs_f64(args.retrain_every_hours * 3600.0)
        .map_err(|_| anyhow::anyhow!("--retrain-every-hours must be a positive number of hours"))?;
    let min_interval = Duration::try_from_secs_f64(args.retrain_min_interval_minutes * 60.0)
        .map_err(|_| anyhow::anyhow!("--retrain-min-interval-minutes must be zero or a positive number of minutes"))?;
    let retrain = RetrainConfig {
        base_file: args.classifier_base.clone(),
        every,
        min_new_labels: args.retrain_min_labels.max(1),
        min_interval,
        min_held_out_examples: args.retrain_min_held_out.max(1),
        min_held_out_users: args.retrain_min_held_out_users.max(1),
        keep_versions: args.model_keep_versions,
        interaction_weights: InteractionWeights::parse(&args.interaction_weights)
            .map_err(|e| anyhow::anyhow!("--interaction-weights: {e}"))?,
        ..RetrainConfig::default()
    };
    let mut engine = args.store.engine_config()?;
    engine.matching = MatchConfig { review_threshold: args.review_threshold, ..MatchConfig::default() };
    engine.retrain = retrain;
    engine.jobs = JobsConfig {
        expiry_interval: Duration::from_secs(args.expiry_interval_secs.max(1)),
        model_poll_interval: Duration::from_secs(args.model_poll_secs.max(1)),
        index_interval: Duration::from_secs(1),
        retrain_scheduler: !args.no_retrain,
    };
    let app =
        Application::build(ServerConfig { listen: args.listen, engine }).await.context("cannot start the server")?;
    serve(app).await?;
    Ok(ExitCode::SUCCESS)
}

/// Serves until Ctrl-C or SIGTERM, printing where.
pub async fn serve(app: Application) -> anyhow::Result<()> {
    let addr = app.local_addr();
    let backend = format!("{:?}", app.engine().store().backend()).to_lowercase();
    println!("wantloop serving on http://{addr} ({backend}); API under /v1, OpenAPI at /openapi.json. Ctrl-C to stop.");
    tracing::info!(%addr, backend, "listening");
    app.run_until_stopped(shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
