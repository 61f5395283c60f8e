//! The app as the API tests boot it: `Application` on a random port over a
//! fresh database, with a small client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::Value;
use wantloop_engine::{EngineConfig, IndexLocation, JobsConfig, MatchConfig};
use wantloop_server::{Access, Application, Limits, ServerConfig};
use wantloop_store::testing::TestDb;

pub struct App {
    pub base: String,
    pub http: Client,
    pub store: Arc<dyn wantloop_store::Store>,
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.http.post(self.url(path)).json(&body).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_empty(&self, path: &str) -> (StatusCode, Value) {
        let r = self.http.post(self.url(path)).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

pub async fn boot(db: &TestDb) -> App {
    boot_with(db, Limits::default()).await
}

/// Boots with the given limits (the hardening tests tighten them).
pub async fn boot_with(db: &TestDb, limits: Limits) -> App {
    // These tests are about everything but keys (see `access.rs`): open, on loopback.
    boot_as(db, limits, Access::Open).await
}

/// Boots with the given limits and access.
pub async fn boot_as(db: &TestDb, limits: Limits, access: Access) -> App {
    let mut engine = EngineConfig::embedded(std::path::Path::new("."));
    engine.database_url = db.url.clone();
    engine.index = IndexLocation::Memory;
    // No pretrained model, whatever lies under the working folder.
    (engine.sentence_model, engine.images.model) = (None, None);
    engine.matching = MatchConfig::default();
    engine.retrain.base_file = Some(fixture("demands_train.tsv"));
    engine.jobs = JobsConfig {
        expiry_interval: Duration::from_secs(3600),
        model_poll_interval: Duration::from_millis(100),
        index_interval: Duration::from_millis(50),
        retrain_scheduler: false,
        ..JobsConfig::default()
    };
    let store: Arc<dyn wantloop_store::Store> = Arc::new(db.store.clone());
    let config = ServerConfig { listen: SocketAddr::from(([127, 0, 0, 1], 0)), engine, limits, access };
    let app = Application::with_store(store.clone(), config).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    App { base, http: Client::new(), store }
}

pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ml/tests/fixtures").join(name)
}
