//! `wantloop`: the command line. Each subcommand lives in `commands/`; this file
//! parses arguments, sets up logging, and turns errors into one line and a
//! non-zero exit.

mod commands;
mod demo_data;
mod demo_images;

/// mimalloc instead of glibc's allocator: indexing, matching and serving
/// allocate many small short-lived values across threads, where glibc's
/// arenas spent a tenth of the CPU in malloc and free (perf, bench/scale).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use wantloop_cli::{config_file, records};

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use wantloop_engine::{Engine, EngineConfig, IndexLocation};

#[derive(Parser)]
#[command(
    name = "wantloop",
    version,
    about = "Demand-satisfaction engine: match demands to offers, allocate, learn, relist."
)]
struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true, env = "WANTLOOP_LOG_JSON", value_parser = clap::builder::BoolishValueParser::new())]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives: the embedded store under a folder, or a database URL,
/// and this node's search index. Every command opens the engine from these.
#[derive(clap::Args, Clone, Debug)]
pub struct StoreArgs {
    /// Folder of the embedded store (SQLite, WAL) and, by default, of the search index.
    #[arg(long, env = "WANTLOOP_DATA_DIR", default_value = "./wantloop-data")]
    pub data_dir: PathBuf,
    /// Use this database instead of the embedded one (postgres://… or sqlite://…).
    #[arg(long, env = "WANTLOOP_DATABASE_URL")]
    database_url: Option<String>,
    /// Folder of this node's search index (default: DATA_DIR/search).
    #[arg(long, env = "WANTLOOP_SEARCH_DIR")]
    search_dir: Option<PathBuf>,
    /// Where model files go: `database` (in their rows, so every node reading the
    /// database has them), a folder every node mounts, or `s3://bucket[/prefix]`
    /// (built with the `s3` feature). Default: a `blobs` folder beside a SQLite
    /// database (DATA_DIR/blobs embedded), `database` for PostgreSQL.
    #[arg(long, env = "WANTLOOP_BLOB_STORE")]
    blob_store: Option<String>,
}

/// The folder of a `sqlite://PATH[?…]` database; `None` for other URLs.
fn sqlite_folder(url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = std::path::Path::new(path.split('?').next().unwrap_or(path));
    Some(path.parent().map(PathBuf::from).unwrap_or_default())
}

impl StoreArgs {
    /// The database URL, creating the data folder for the embedded store.
    pub fn url(&self) -> anyhow::Result<String> {
        match &self.database_url {
            Some(u) => Ok(u.clone()),
            None => {
                std::fs::create_dir_all(&self.data_dir)
                    .map_err(|e| anyhow::anyhow!("cannot create data folder {}: {e}", self.data_dir.display()))?;
                Ok(format!("sqlite://{}/wantloop.db", self.data_dir.display()))
            }
        }
    }

    pub fn search_dir(&self) -> PathBuf {
        self.search_dir.clone().unwrap_or_else(|| self.data_dir.join("search"))
    }

    /// The engine's configuration with default tunables; commands adjust it.
    pub fn engine_config(&self) -> anyhow::Result<EngineConfig> {
        let blobs = match (self.blob_store.as_deref(), &self.database_url) {
            (Some("database"), _) => None,
            (Some("memory:"), _) => anyhow::bail!("--blob-store memory: would lose every model at exit"),
            (Some(location), _) => Some(location.to_string()),
            (None, None) => Some(self.data_dir.join("blobs").display().to_string()),
            // Beside the SQLite file, so the same data opens the same way
            // through --data-dir or through its URL.
            (None, Some(url)) => sqlite_folder(url).map(|dir| dir.join("blobs").display().to_string()),
        };
        Ok(EngineConfig {
            database_url: self.url()?,
            index: IndexLocation::Dir(self.search_dir()),
            blobs,
            ..EngineConfig::embedded(&self.data_dir)
        })
    }

    /// Opens the engine as every command and the API do.
    pub async fn open(&self) -> anyhow::Result<Engine> {
        let config = self.engine_config()?;
        Engine::open(&config).await.context("cannot open the engine")
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve(Box<commands::serve::Args>),
    /// Build a bilingual demo marketplace, run the whole loop on it, summarise, then serve it.
    Demo(commands::demo::Args),
    /// Import demands or offers from CSV or JSONL (by extension).
    Import(commands::import::Args),
    /// Export demands or offers as CSV or JSONL (the import formats), or the matches' outcomes as ranking features.
    Export(commands::export::Args),
    /// Allocate supply over all open demands (global optimum), or solve an instance from files.
    Allocate(commands::allocate::Args),
    /// Train a model (the demand classifier) and register it.
    Train(commands::train::Args),
    /// Evaluate a model on labelled data; prints metrics (one JSON object with --json).
    Eval(commands::eval::Args),
    /// List or activate registered models.
    Models(commands::models::Args),
    /// Rebuild the search index from the store.
    Reindex(commands::reindex::Args),
    /// Show, set or try the operators' synonym list (applied to search and matching).
    Synonyms(commands::synonyms::Args),
    /// Ask the assistant a question (answered from the FAQ, or refused).
    Ask(commands::ask::Args),
    /// Create, list or revoke API keys.
    Keys(commands::keys::Args),
    /// Replay the loop on logged ratings: v1 weights, frozen and retrained rankers, random, upper bound.
    Simulate(commands::simulate::Args),
}

fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("WANTLOOP_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    if let Err(e) = config_file::apply() {
        eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    init_logging(cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(a) => commands::serve::run(*a).await,
            Command::Demo(a) => commands::demo::run(a).await,
            Command::Import(a) => commands::import::run(a).await,
            Command::Export(a) => commands::export::run(a).await,
            Command::Allocate(a) => commands::allocate::run(a).await,
            Command::Train(a) => commands::train::run(a).await,
            Command::Eval(a) => commands::eval::run(a).await,
            Command::Models(a) => commands::models::run(a).await,
            Command::Reindex(a) => commands::reindex::run(a).await,
            Command::Synonyms(a) => commands::synonyms::run(a).await,
            Command::Keys(a) => commands::keys::run(a).await,
            Command::Ask(a) => commands::ask::run(a).await,
            Command::Simulate(a) => tokio::task::block_in_place(|| commands::simulate::run(a)),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
