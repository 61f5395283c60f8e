//! The wantloop server: the HTTP API over the engine, and `Application`, which
//! wires store, engine, background jobs and listener together so that tests
//! boot exactly what production runs (on a random port, against a fresh database).
//!
//! Architecture invariant: handlers parse and validate at the edge and call the
//! engine or the store; no business rule lives in a handler. Every error leaves
//! as `application/problem+json` through the one table in `problem.rs`.

pub mod engine;
mod extract;
pub mod indexer;
pub mod models;
mod paging;
pub mod problem;
pub mod recommend;
mod reply;
pub mod retrain;
pub mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use wantloop_core::time::now_ms;
use wantloop_store::{SqlStore, Store, StoreError};

pub use engine::{AllocationReport, Engine, EngineError, MatchConfig};
pub use retrain::RetrainConfig;

/// Largest accepted request body.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub retrain: RetrainConfig,
}

/// What `wantloop serve` is configured with.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// `sqlite://…` (embedded) or `postgres://…`.
    pub database_url: String,
    pub matching: MatchConfig,
    /// How often due proposals and demands are expired.
    pub expiry_interval: Duration,
    /// How often to check the registry for a newly activated model.
    pub model_poll_interval: Duration,
    pub retrain: RetrainConfig,
    /// Run the retraining scheduler in this process.
    pub retrain_scheduler: bool,
    /// Folder of this node's search index (`None`: in memory, rebuilt at start).
    pub search_dir: Option<std::path::PathBuf>,
    /// How often the indexer polls the outbox.
    pub index_interval: Duration,
}

impl ServerConfig {
    pub fn embedded(data_dir: &std::path::Path, listen: SocketAddr) -> Self {
        Self {
            listen,
            database_url: format!("sqlite://{}/wantloop.db", data_dir.display()),
            matching: MatchConfig::default(),
            expiry_interval: Duration::from_secs(30),
            model_poll_interval: Duration::from_secs(10),
            retrain: RetrainConfig::default(),
            retrain_scheduler: false,
            search_dir: Some(data_dir.join("search")),
            index_interval: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("server failed: {0}")]
    Serve(#[from] std::io::Error),
    #[error("search index: {0}")]
    Search(String),
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    config: ServerConfig,
}

impl Application {
    /// Connects the store (running migrations) and binds the listener. Port 0
    /// picks a free port; see [`Application::local_addr`].
    pub async fn build(config: ServerConfig) -> Result<Self, ServerError> {
        let store: Arc<dyn Store> = Arc::new(SqlStore::connect(&config.database_url).await?);
        Self::with_store(store, config).await
    }

    pub async fn with_store(store: Arc<dyn Store>, config: ServerConfig) -> Result<Self, ServerError> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| ServerError::Bind { addr: config.listen, source })?;
        let index = match &config.search_dir {
            Some(dir) => wantloop_search::SearchIndex::open_or_create(dir),
            None => wantloop_search::SearchIndex::in_memory(),
        }
        .map_err(|e| ServerError::Search(e.to_string()))?;
        let index = Arc::new(index);
        // An index ahead of the store belongs to another database: rebuild it.
        if index.cursor() > store.last_event_id().await? {
            tracing::warn!("search index is ahead of the store; rebuilding it");
            indexer::rebuild(store.as_ref(), &index, &|_| {}).await.map_err(|e| ServerError::Search(e.to_string()))?;
        }
        // Catch up before serving, so a restarted node answers from current data.
        indexer::catch_up(store.as_ref(), &index).await.map_err(|e| ServerError::Search(e.to_string()))?;
        let engine = Engine::new(store, config.matching.clone()).with_search(index);
        engine.refresh_models().await?;
        let state = AppState { engine, retrain: config.retrain.clone() };
        Ok(Self { listener, state, config })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn engine(&self) -> &Engine {
        &self.state.engine
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let store = self.state.engine.store().clone();
        let mut jobs = vec![
            tokio::spawn(expiry_sweeper(store.clone(), self.config.expiry_interval)),
            tokio::spawn(model_watcher(self.state.engine.clone(), self.config.model_poll_interval)),
        ];
        if let Some(index) = self.state.engine.search() {
            jobs.push(tokio::spawn(indexer::run(store.clone(), index.clone(), self.config.index_interval)));
        }
        if self.config.retrain_scheduler {
            jobs.push(tokio::spawn(retrain::scheduler(store, self.config.retrain.clone())));
        }
        let app = routes::router(self.state);
        let result = axum::serve(self.listener, app).with_graceful_shutdown(shutdown).await;
        jobs.iter().for_each(tokio::task::JoinHandle::abort);
        result.map_err(ServerError::from)
    }
}

/// Keeps the served classifier in step with the registry's active one.
async fn model_watcher(engine: Engine, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(e) = engine.refresh_models().await {
            tracing::warn!(error = %e, "model refresh failed");
        }
    }
}

/// Expires due proposals (returning their units) and due demands, periodically.
async fn expiry_sweeper(store: Arc<dyn Store>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match store.expire_due(now_ms()).await {
            Ok(s) if s.matches_expired + s.demands_expired > 0 => {
                tracing::info!(matches = s.matches_expired, demands = s.demands_expired, "expired due items");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "expiry sweep failed"),
        }
    }
}
