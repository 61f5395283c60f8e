//! Schema migrations, embedded in the binary, one script set per dialect, run by
//! sqlx's migrator (which takes a lock so that several nodes can start at once).

use std::borrow::Cow;

use sqlx::AnyPool;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use super::Dialect;
use crate::error::StoreError;

const SQLITE: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, "models_review", include_str!("../../migrations/sqlite/0002_models_review.sql")),
    (3, "interactions", include_str!("../../migrations/sqlite/0003_interactions.sql")),
    (4, "hardening", include_str!("../../migrations/sqlite/0004_hardening.sql")),
    (5, "jobs", include_str!("../../migrations/sqlite/0005_jobs.sql")),
    (6, "retention", include_str!("../../migrations/sqlite/0006_retention.sql")),
    (7, "events_by_kind", include_str!("../../migrations/sqlite/0007_events_by_kind.sql")),
    (8, "expiry_index", include_str!("../../migrations/sqlite/0008_expiry_index.sql")),
    (9, "cluster", include_str!("../../migrations/sqlite/0009_cluster.sql")),
    (10, "model_blobs", include_str!("../../migrations/sqlite/0010_model_blobs.sql")),
    (11, "node_jobs", include_str!("../../migrations/sqlite/0011_node_jobs.sql")),
    (12, "api_keys", include_str!("../../migrations/sqlite/0012_api_keys.sql")),
    (13, "events_by_kind_time", include_str!("../../migrations/sqlite/0013_events_by_kind_time.sql")),
    (14, "images", include_str!("../../migrations/sqlite/0014_images.sql")),
    (15, "synonyms", include_str!("../../migrations/sqlite/0015_synonyms.sql")),
    (16, "faq", include_str!("../../migrations/sqlite/0016_faq.sql")),
    (17, "node_models", include_str!("../../migrations/sqlite/0017_node_models.sql")),
];
const POSTGRES: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/postgres/0001_init.sql")),
    (2, "models_review", include_str!("../../migrations/postgres/0002_models_review.sql")),
    (3, "interactions", include_str!("../../migrations/postgres/0003_interactions.sql")),
    (4, "hardening", include_str!("../../migrations/postgres/0004_hardening.sql")),
    (5, "jobs", include_str!("../../migrations/postgres/0005_jobs.sql")),
    (6, "retention", include_str!("../../migrations/postgres/0006_retention.sql")),
    (7, "events_by_kind", include_str!("../../migrations/postgres/0007_events_by_kind.sql")),
    (8, "expiry_index", include_str!("../../migrations/postgres/0008_expiry_index.sql")),
    (9, "cluster", include_str!("../../migrations/postgres/0009_cluster.sql")),
    (10, "model_blobs", include_str!("../../migrations/postgres/0010_model_blobs.sql")),
    (11, "node_jobs", include_str!("../../migrations/postgres/0011_node_jobs.sql")),
    (12, "api_keys", include_str!("../../migrations/postgres/0012_api_keys.sql")),
    (13, "events_by_kind_time", include_str!("../../migrations/postgres/0013_events_by_kind_time.sql")),
    (14, "images", include_str!("../../migrations/postgres/0014_images.sql")),
    (15, "synonyms", include_str!("../../migrations/postgres/0015_synonyms.sql")),
    (16, "faq", include_str!("../../migrations/postgres/0016_faq.sql")),
    (17, "node_models", include_str!("../../migrations/postgres/0017_node_models.sql")),
];

pub(crate) async fn run(pool: &AnyPool, dialect: Dialect) -> Result<(), StoreError> {
    let scripts = match dialect {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
    };
    let migrations: Vec<Migration> = scripts
        .iter()
        .map(|(version, name, sql)| {
            Migration::new(*version, Cow::Borrowed(*name), MigrationType::Simple, sql.into_sql_str(), false)
        })
        .collect();
    let migrator = Migrator { migrations: Cow::Owned(migrations), ..Migrator::DEFAULT };
    migrator.run(pool).await?;
    Ok(())
}

/// The newest migration this build knows, for a read replica's schema check.
pub(crate) fn latest(dialect: Dialect) -> i64 {
    let scripts = match dialect {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
    };
    scripts.iter().map(|(v, _, _)| *v).max().unwrap_or(0)
}

#[cfg(test)]
mod listed {
    /// A script added to `migrations/` but not listed above would never run.
    #[test]
    fn every_migration_file_is_listed() {
        for (dir, listed) in [("sqlite", super::SQLITE), ("postgres", super::POSTGRES)] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dir);
            let mut files: Vec<String> = std::fs::read_dir(path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            files.sort();
            let names: Vec<String> = listed.iter().map(|(v, name, _)| format!("{v:04}_{name}.sql")).collect();
            assert_eq!(files, names, "{dir}");
        }
    }
}
