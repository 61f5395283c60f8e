//! `wantloop serve`: the HTTP API on the embedded store or PostgreSQL.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use wantloop_engine::seams::Seams;
use wantloop_engine::{Engine, InteractionWeights, JobsConfig, MatchConfig, RetentionConfig, RetrainConfig};
use wantloop_server::{Access, Application, Limits};

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
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    retention: RetentionArgs,
    /// Run batch allocation over the whole market this often (seconds), on the
    /// lease holder only; unset: only on request (`POST /v1/allocate`).
    #[arg(long, env = "WANTLOOP_ALLOCATE_EVERY")]
    allocate_every: Option<f64>,
    /// `optimal` (the exact global optimum) or `greedy`, for scheduled allocation.
    #[arg(long, env = "WANTLOOP_ALLOCATE_MODE", default_value = "optimal", value_parser = ["optimal", "greedy"])]
    allocate_mode: String,
    /// Do not run the retraining schedule in this process.
    #[arg(long, env = "WANTLOOP_NO_RETRAIN", value_parser = clap::builder::BoolishValueParser::new())]
    no_retrain: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Pretrained models this node must serve with (`text`, `image`,
    /// comma-separated): it refuses to start without them, so that no node of
    /// a cluster answers English questions or image searches differently.
    #[arg(long, env = "WANTLOOP_REQUIRE_MODELS")]
    require_models: Option<String>,
    /// Serve without API keys (every request acts as an admin), for local
    /// development: refused unless --listen is a loopback address.
    #[arg(long, env = "WANTLOOP_OPEN", value_parser = clap::builder::BoolishValueParser::new())]
    open: bool,
}

/// The shared services of a scaled-out deployment; without them the
/// in-process implementations serve (see the README's "Scaling out").
#[derive(clap::Args)]
pub struct ClusterArgs {
    /// Redis for the shared cache and the leases of leader-only jobs
    /// (redis://host:port[/db]).
    #[arg(long, env = "WANTLOOP_REDIS_URL")]
    redis_url: Option<String>,
    /// Prefix of every key wantloop writes to Redis, so that several
    /// deployments can share one.
    #[arg(long, env = "WANTLOOP_REDIS_PREFIX", default_value = "wantloop:")]
    redis_prefix: String,
    /// NATS with JetStream for the event stream (the outbox relay), the
    /// work queue of match jobs and announcements between nodes, nats://host:port.
    #[arg(long, env = "WANTLOOP_NATS_URL")]
    nats_url: Option<String>,
    /// Prefix of every subject wantloop uses on NATS.
    #[arg(long, env = "WANTLOOP_NATS_PREFIX", default_value = "wantloop.")]
    nats_prefix: String,
    /// A read replica of the PostgreSQL database (postgres://…) for list reads,
    /// which may then lag writes by the replication delay.
    #[arg(long, env = "WANTLOOP_READ_DATABASE_URL")]
    read_database_url: Option<String>,
}

impl ClusterArgs {
    /// The seams these settings name, connected and answering.
    async fn seams(&self) -> anyhow::Result<Seams> {
        let mut seams = Seams::in_process();
        if let Some(url) = &self.redis_url {
            let conn = wantloop_cluster::connect_redis(url).await.context("--redis-url")?;
            let prefix = &self.redis_prefix;
            seams.cache = Arc::new(wantloop_cluster::RedisCache::new(conn.clone(), format!("{prefix}cache:")));
            seams.lease = Arc::new(wantloop_cluster::RedisLease::new(conn, prefix.clone()));
        }
        if let Some(url) = &self.nats_url {
            let client = wantloop_cluster::connect_nats(url).await.context("--nats-url")?;
            let prefix = &self.nats_prefix;
            let bus = wantloop_cluster::NatsBus::new(client.clone(), prefix.clone()).await.context("--nats-url")?;
            seams.bus = Arc::new(bus);
            // A match job not acknowledged within 30 s (its node died) is delivered again.
            let queue = wantloop_cluster::NatsQueue::new(client, prefix.clone(), Duration::from_secs(30))
                .await
                .context("--nats-url")?;
            seams.queue = Arc::new(queue);
        }
        Ok(seams)
    }
}

/// The server's limits (see the README's "Limits" section).
#[derive(clap::Args)]
pub struct LimitArgs {
    /// Longest a request may run before it is answered 503; batch allocation and
    /// retraining answer 202 with a job to poll instead (seconds).
    #[arg(long, env = "WANTLOOP_REQUEST_TIMEOUT_SECS", default_value_t = 30.0)]
    request_timeout_secs: f64,
    /// Longest a client may take to send a request body (seconds); slower uploads get 408.
    #[arg(long, env = "WANTLOOP_BODY_TIMEOUT_SECS", default_value_t = 10.0)]
    body_timeout_secs: f64,
    /// Requests handled at once; more are answered 503 with Retry-After.
    #[arg(long, env = "WANTLOOP_MAX_IN_FLIGHT", default_value_t = Limits::default().max_in_flight)]
    max_in_flight: usize,
    /// Sustained requests per second per client address (0: no limit); more get 429.
    #[arg(long, env = "WANTLOOP_RATE_LIMIT", default_value_t = Limits::default().rate_per_second)]
    rate_limit: u32,
    /// Requests a client may burst above its rate.
    #[arg(long, env = "WANTLOOP_RATE_BURST", default_value_t = Limits::default().rate_burst)]
    rate_burst: u32,
    /// Rate-limit by the last X-Forwarded-For hop (set behind nginx), not the TCP peer.
    #[arg(long, env = "WANTLOOP_TRUST_FORWARDED_FOR", value_parser = clap::builder::BoolishValueParser::new())]
    trust_forwarded_for: bool,
}

impl LimitArgs {
    pub fn limits(&self) -> anyhow::Result<Limits> {
        let request_timeout = Duration::try_from_secs_f64(self.request_timeout_secs)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| anyhow::anyhow!("--request-timeout-secs must be a positive number of seconds"))?;
        anyhow::ensure!(self.max_in_flight > 0, "--max-in-flight must be at least 1");
        let body_timeout = Duration::try_from_secs_f64(self.body_timeout_secs)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| anyhow::anyhow!("--body-timeout-secs must be a positive number of seconds"))?;
        Ok(Limits {
            request_timeout,
            max_in_flight: self.max_in_flight,
            rate_per_second: self.rate_limit,
            rate_burst: self.rate_burst,
            trust_forwarded_for: self.trust_forwarded_for,
            body_timeout,
            ..Limits::default()
        })
    }
}

/// How long old rows are kept (0: forever); see the README's "Retention".
#[derive(clap::Args)]
pub struct RetentionArgs {
    /// Outbox events older than this are deleted once every consumer has read them (days).
    #[arg(long, env = "WANTLOOP_RETAIN_EVENTS_DAYS", default_value_t = 30.0)]
    retain_events_days: f64,
    /// Idempotency keys are remembered this long (hours).
    #[arg(long, env = "WANTLOOP_RETAIN_IDEMPOTENCY_HOURS", default_value_t = 24.0)]
    retain_idempotency_hours: f64,
    /// Interactions older than this are deleted once the recommender has trained on them (days; 0: keep).
    #[arg(long, env = "WANTLOOP_RETAIN_INTERACTIONS_DAYS", default_value_t = 0.0)]
    retain_interactions_days: f64,
    /// Finished jobs are kept this long (days).
    #[arg(long, env = "WANTLOOP_RETAIN_JOBS_DAYS", default_value_t = 7.0)]
    retain_jobs_days: f64,
    /// Questions the assistant kept that no operator answered are kept this long (days; 0: forever).
    #[arg(long, env = "WANTLOOP_RETAIN_QUESTIONS_DAYS", default_value_t = 90.0)]
    retain_questions_days: f64,
    /// A job still running this long (its node stopped, or it hangs) is marked failed (hours; 0: never).
    #[arg(long, env = "WANTLOOP_JOB_TIMEOUT_HOURS", default_value_t = 24.0)]
    job_timeout_hours: f64,
}

impl RetentionArgs {
    fn config(&self) -> anyhow::Result<RetentionConfig> {
        let age = |flag: &str, value: f64, unit_secs: f64| -> anyhow::Result<Option<Duration>> {
            let d = Duration::try_from_secs_f64(value * unit_secs)
                .map_err(|_| anyhow::anyhow!("--{flag} must be zero or a positive number"))?;
            Ok((!d.is_zero()).then_some(d))
        };
        Ok(RetentionConfig {
            events: age("retain-events-days", self.retain_events_days, 86_400.0)?,
            idempotency_keys: age("retain-idempotency-hours", self.retain_idempotency_hours, 3_600.0)?,
            interactions: age("retain-interactions-days", self.retain_interactions_days, 86_400.0)?,
            finished_jobs: age("retain-jobs-days", self.retain_jobs_days, 86_400.0)?,
            abandoned_jobs: age("job-timeout-hours", self.job_timeout_hours, 3_600.0)?,
            open_questions: age("retain-questions-days", self.retain_questions_days, 86_400.0)?,
            ..RetentionConfig::default()
        })
    }
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
    engine.read_database_url = args.cluster.read_database_url.clone();
    engine.matching = MatchConfig { review_threshold: args.review_threshold, ..MatchConfig::default() };
    engine.retrain = retrain;
    for kind in required_models(args.require_models.as_deref())? {
        let installed = if kind == "text" { engine.sentence_model.is_some() } else { engine.images.model.is_some() };
        let dir = args.store.data_dir.display();
        anyhow::ensure!(
            installed,
            "--require-models {kind}: the {kind} model is not installed in {dir}: run `wantloop models install {kind} --data-dir '{dir}'`"
        );
    }
    let allocate_every = match args.allocate_every {
        None => None,
        Some(secs) => Some(
            Duration::try_from_secs_f64(secs)
                .ok()
                .filter(|d| *d >= Duration::from_secs(1))
                .ok_or_else(|| anyhow::anyhow!("--allocate-every must be at least 1 second"))?,
        ),
    };
    let allocate_mode = match args.allocate_mode.as_str() {
        "greedy" => wantloop_match::batch::Mode::Greedy,
        _ => wantloop_match::batch::Mode::Optimal,
    };
    engine.jobs = JobsConfig {
        expiry_interval: Duration::from_secs(args.expiry_interval_secs.max(1)),
        model_poll_interval: Duration::from_secs(args.model_poll_secs.max(1)),
        index_interval: Duration::from_secs(1),
        retrain_scheduler: !args.no_retrain,
        retention: args.retention.config()?,
        allocate_every,
        allocate_mode,
    };
    let limits = args.limits.limits()?;
    let access = if args.open { Access::Open } else { Access::Keys };
    if access == Access::Open && !args.listen.ip().is_loopback() {
        anyhow::bail!(
            "--open serves without API keys, so only on a loopback address (127.0.0.1, ::1), not {}",
            args.listen
        );
    }
    let seams = args.cluster.seams().await?;
    let engine = Engine::open_with_seams(&engine, seams).await.context("cannot start the server")?;
    if access == Access::Keys && !args.listen.ip().is_loopback() && !engine.store().has_admin_key().await? {
        anyhow::bail!(
            "no admin key exists, so nobody could run this server from {}: create one with `wantloop keys create --role admin` (or serve on 127.0.0.1)",
            args.listen
        );
    }
    let app = Application::with_engine(engine, args.listen, limits)
        .await
        .and_then(|a| a.with_access(access))
        .context("cannot start the server")?;
    serve(app).await?;
    Ok(ExitCode::SUCCESS)
}

/// The kinds `--require-models` names. Read by hand rather than by clap's
/// list parser, so that an empty variable or `text, image` from a
/// deployment template is accepted; every name is checked before any model.
fn required_models(list: Option<&str>) -> anyhow::Result<Vec<&str>> {
    let kinds: Vec<&str> =
        list.into_iter().flat_map(|l| l.split(',')).map(str::trim).filter(|k| !k.is_empty()).collect();
    if let Some(other) = kinds.iter().find(|k| !matches!(**k, "text" | "image")) {
        anyhow::bail!("--require-models: `{other}` is not a pretrained model (text, image)");
    }
    Ok(kinds)
}

/// Serves until Ctrl-C or SIGTERM, printing where.
pub async fn serve(app: Application) -> anyhow::Result<()> {
    let addr = app.local_addr();
    let backend = format!("{:?}", app.engine().store().backend()).to_lowercase();
    let keys = match app.access() {
        Access::Open => "WITHOUT API KEYS (--open: every request acts as an admin; loopback only)",
        Access::Keys => "API keys required (Authorization: Bearer wlk_…)",
    };
    println!(
        "wantloop serving on http://{addr} ({backend}), {keys}; API under /v1, OpenAPI at /openapi.json. Ctrl-C to stop."
    );
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
