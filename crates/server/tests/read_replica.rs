//! List reads go to the read replica when one is configured; single reads and
//! writes go to the primary. A second fresh database stands in for a replica
//! that has not yet received the primary's writes, which makes the routing
//! visible. The replica connection is read-only and checks its schema.

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::json;
use wantloop_core::offer::OfferInput;
use wantloop_engine::{Engine, EngineConfig, IndexLocation};
use wantloop_server::{Application, Limits};
use wantloop_store::testing::TestDb;
use wantloop_store::{SqlStore, Store, StoreError};

#[tokio::test]
async fn lists_are_read_from_the_replica_and_everything_else_from_the_primary() {
    let Some(primary) = TestDb::postgres().await.unwrap() else { return };
    let Some(replica_db) = TestDb::postgres().await.unwrap() else { return };
    let config = EngineConfig {
        database_url: primary.url.clone(),
        index: IndexLocation::Memory,
        ..EngineConfig::embedded(".".as_ref())
    };
    let replica = Arc::new(SqlStore::connect_replica(&replica_db.url).await.unwrap());
    let engine =
        Engine::with_store(Arc::new(primary.store.clone()), &config).await.unwrap().with_reads(replica.clone());
    let app = Application::with_engine(engine, SocketAddr::from(([127, 0, 0, 1], 0)), Limits::default())
        .await
        .unwrap()
        .with_access(wantloop_server::Access::Open)
        .unwrap();
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let http = reqwest::Client::new();

    let offer = json!({"provider": "bob", "text": "山地自行车", "category": "bicycles", "price": 20000});
    let created: serde_json::Value =
        http.post(format!("{base}/v1/offers")).json(&offer).send().await.unwrap().json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    let one = http.get(format!("{base}/v1/offers/{id}")).send().await.unwrap();
    assert_eq!(one.status(), 200, "a single read goes to the primary");
    let list: serde_json::Value = http.get(format!("{base}/v1/offers")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"], json!([]), "the list comes from the replica, which has not received the offer");

    // Replicated: now the list shows it.
    let o = OfferInput {
        provider: "bob".into(),
        text: "山地自行车".into(),
        category: "bicycles".into(),
        price: 20_000,
        ..Default::default()
    };
    replica_db.store.create_offer(&o.parse().unwrap(), None).await.unwrap();
    let list: serde_json::Value = http.get(format!("{base}/v1/offers")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // The replica connection never writes.
    let write = replica.create_offer(&o.parse().unwrap(), None).await;
    assert!(matches!(write, Err(StoreError::Database(_))), "a write through the replica must fail, got {write:?}");
    primary.cleanup().await;
    replica_db.cleanup().await;
}

#[tokio::test]
async fn a_replica_must_be_postgres_at_this_builds_schema() {
    let e = SqlStore::connect_replica("sqlite://x.db").await.err().unwrap();
    assert!(matches!(e, StoreError::UnsupportedUrl(_)));
    let Some(db) = TestDb::postgres().await.unwrap() else { return };
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
        .execute(&sqlx::PgPool::connect(&db.url).await.unwrap())
        .await
        .unwrap();
    let e = SqlStore::connect_replica(&db.url).await.err().unwrap();
    assert!(e.to_string().contains("this build needs"), "{e}");
    db.cleanup().await;
}
