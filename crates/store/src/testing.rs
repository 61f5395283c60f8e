//! Fresh, isolated databases for tests of this crate and the crates above it:
//! a temporary SQLite file, or a new PostgreSQL database on the server named by
//! `WANTLOOP_TEST_PG_URL` (dropped again by [`TestDb::cleanup`]).

use sqlx::{AnyPool, AssertSqlSafe};

use crate::error::StoreError;
use crate::sql::SqlStore;

/// The environment variable naming the PostgreSQL server for tests.
pub const PG_URL_VAR: &str = "WANTLOOP_TEST_PG_URL";
/// Set (as CI does) to make a missing PostgreSQL server fail the tests.
pub const REQUIRE_PG_VAR: &str = "WANTLOOP_REQUIRE_PG";

pub struct TestDb {
    pub store: SqlStore,
    pub url: String,
    admin: Option<(String, String)>,
    _dir: Option<TempDirGuard>,
}

/// Removes a temporary directory when dropped.
struct TempDirGuard(std::path::PathBuf);

impl Drop for TempDirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("wl_test_{}_{}_{}", std::process::id(), nanos, SEQ.fetch_add(1, Ordering::Relaxed))
}

impl TestDb {
    /// A store on a new SQLite file in a temporary directory.
    pub async fn sqlite() -> Result<Self, StoreError> {
        let dir = std::env::temp_dir().join(unique_name());
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let url = format!("sqlite://{}/wantloop.db", dir.display());
        let store = SqlStore::connect(&url).await?;
        Ok(Self { store, url, admin: None, _dir: Some(TempDirGuard(dir)) })
    }

    /// A store on a new PostgreSQL database, or `None` (with a notice on the
    /// terminal) when `WANTLOOP_TEST_PG_URL` is not set. With
    /// `WANTLOOP_REQUIRE_PG` set (CI), a missing server fails the test instead.
    pub async fn postgres() -> Result<Option<Self>, StoreError> {
        let Ok(base) = std::env::var(PG_URL_VAR) else {
            if std::env::var_os(REQUIRE_PG_VAR).is_some() {
                panic!("{REQUIRE_PG_VAR} is set but {PG_URL_VAR} is not: the PostgreSQL tests must run");
            }
            // Written to the terminal itself: the test harness captures
            // `eprintln!` of passing tests, and a skip must not look like a pass.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "notice: {PG_URL_VAR} is not set; {} skips its PostgreSQL run",
                std::thread::current().name().unwrap_or("a test")
            );
            return Ok(None);
        };
        sqlx::any::install_default_drivers();
        let name = unique_name();
        let admin = AnyPool::connect(&base).await?;
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
        admin.close().await;
        let url = with_database(&base, &name);
        let store = SqlStore::connect(&url).await?;
        Ok(Some(Self { store, url, admin: Some((base, name)), _dir: None }))
    }

    /// Drops the PostgreSQL database (SQLite files go with the guard).
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some((base, name)) = self.admin
            && let Ok(admin) = AnyPool::connect(&base).await
        {
            let _ = sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&admin)
                .await;
            admin.close().await;
        }
    }
}

/// `postgres://u@h:p/db?x` with the database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    match head[scheme_end..].find('/') {
        Some(slash) => format!("{}/{name}{query}", &head[..scheme_end + slash]),
        None => format!("{head}/{name}{query}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(super::with_database("postgres://p@h:5432/test", "x"), "postgres://p@h:5432/x");
        assert_eq!(
            super::with_database("postgres://p@h/test?sslmode=disable", "x"),
            "postgres://p@h/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://p@h", "x"), "postgres://p@h/x");
    }
}
