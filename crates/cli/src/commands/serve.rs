//! `wantloop serve`: the HTTP API on the embedded store or PostgreSQL.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use wantloop_server::{Application, MatchConfig, ServerConfig};

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
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = ServerConfig {
        listen: args.listen,
        database_url: args.store.url()?,
        matching: MatchConfig::default(),
        expiry_interval: Duration::from_secs(args.expiry_interval_secs.max(1)),
    };
    let app = Application::build(config.clone()).await.context("cannot start the server")?;
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
