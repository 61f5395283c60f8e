//! The wantloop HTTP API over the engine: routes, extraction, problem+json,
//! the OpenAPI document generated from the router, and middleware.
//! `Application` binds a listener and serves an [`Engine`] with its background
//! jobs, so tests boot exactly what production runs (on a random port,
//! against a fresh database).
//!
//! Architecture invariant: handlers parse and validate at the edge and call the
//! engine; no business rule lives in a handler. Every error leaves as
//! `application/problem+json` through the one table in `problem.rs`, and every
//! route is registered together with its OpenAPI entry.

mod admission;
pub mod auth;
mod extract;
mod jobs;
mod match_queue;
pub mod observe;
mod paging;
pub mod problem;
mod reply;
pub mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use admission::Limits;
pub use auth::Access;
use wantloop_engine::{Engine, EngineConfig, EngineError};
use wantloop_store::Store;

/// Largest accepted request body.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    /// The document `/openapi.json` serves, generated with the router.
    pub openapi: Arc<serde_json::Value>,
    /// Permits for jobs running on this node (see `jobs.rs`).
    pub jobs: Arc<Semaphore>,
    /// How long a request waits for its job before answering 202.
    pub job_wait: std::time::Duration,
    /// Checks keys and roles (see `auth`).
    pub gate: Arc<auth::Gate>,
}

/// Jobs (batch allocations, retrains) a node runs at once.
pub const MAX_RUNNING_JOBS: usize = 4;

/// What `wantloop serve` is configured with: where to listen, and the engine.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub engine: EngineConfig,
    pub limits: Limits,
    pub access: Access,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("server failed: {0}")]
    Serve(#[from] std::io::Error),
    #[error("serving without API keys (--open) is only allowed on a loopback address, not {0}")]
    OpenNotLoopback(SocketAddr),
}

pub struct Application {
    listener: TcpListener,
    engine: Engine,
    limits: Limits,
    access: Access,
}

impl Application {
    /// Opens the engine (store with migrations, index caught up, models
    /// loaded) and binds the listener. Port 0 picks a free port; see
    /// [`Application::local_addr`].
    pub async fn build(config: ServerConfig) -> Result<Self, ServerError> {
        let engine = Engine::open(&config.engine).await?;
        Self::with_engine(engine, config.listen, config.limits).await?.with_access(config.access)
    }

    /// [`Application::build`] over a store the caller already holds (tests).
    pub async fn with_store(store: Arc<dyn Store>, config: ServerConfig) -> Result<Self, ServerError> {
        let engine = Engine::with_store(store, &config.engine).await?;
        Self::with_engine(engine, config.listen, config.limits).await?.with_access(config.access)
    }

    /// Serves an engine that is already open (the demo's, after its run).
    pub async fn with_engine(engine: Engine, listen: SocketAddr, limits: Limits) -> Result<Self, ServerError> {
        let listener = TcpListener::bind(listen).await.map_err(|source| ServerError::Bind { addr: listen, source })?;
        if let Ok(addr) = listener.local_addr() {
            engine.announce_address(addr.to_string());
        }
        Ok(Self { listener, engine, limits, access: Access::Keys })
    }

    /// Serves with `access` (keys by default). [`Access::Open`] only on a
    /// loopback address: a server without keys must not be reachable from
    /// another machine.
    pub fn with_access(mut self, access: Access) -> Result<Self, ServerError> {
        let addr = self.local_addr();
        if access == Access::Open && !addr.ip().is_loopback() {
            return Err(ServerError::OpenNotLoopback(addr));
        }
        self.access = access;
        Ok(self)
    }

    pub fn access(&self) -> Access {
        self.access
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests and
    /// saves the visual index; the engine's background jobs run meanwhile.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let jobs = self.engine.start_jobs();
        let workers = match_queue::start_workers(&self.engine);
        let engine = self.engine.clone();
        let app =
            routes::router(self.engine, self.limits, self.access).into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(self.listener, app).with_graceful_shutdown(shutdown).await;
        workers.iter().for_each(tokio::task::JoinHandle::abort);
        drop(jobs);
        if let Err(e) = engine.save_visual_index().await {
            tracing::warn!(error = %e, "cannot save the visual index at shutdown");
        }
        result.map_err(ServerError::from)
    }
}
