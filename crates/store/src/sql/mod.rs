//! One SQL implementation of [`crate::Store`] for SQLite and PostgreSQL, through
//! sqlx's `Any` driver. The SQL is portable (`$n` parameters, `RETURNING`); the few
//! dialect differences (row locks, schema types, outbox ordering) live in
//! [`Dialect`]. One implementation instead of two keeps the backends from drifting,
//! and the conformance suite runs against both.

mod args;
mod bulk;
mod checkpoint;
mod cluster;
mod demands;
mod faq;
mod group;
mod idempotency;
mod images;
mod interactions;
mod jobs;
mod keys;
mod matches;
mod migrate;
mod models;
mod multi_row;
mod offers;
mod outbox;
mod retention;
mod review;
mod rows;
mod stats;
mod store_impl;
mod synonyms;

/// Runs `$body` (an expression using the write transaction `$w`) as one
/// idempotent write: a repeat of a finished request replays its stored response;
/// deadlocks and serialisation failures retry the whole transaction a few times.
/// A macro rather than a function taking an async closure because the futures of
/// such closures cannot yet be proven `Send` for every borrow they capture.
macro_rules! write_tx {
    ($store:expr, $idem:expr, |$w:ident| $body:expr) => {{
        let store: &$crate::sql::SqlStore = $store;
        let idem: Option<&$crate::model::IdemKey> = $idem;
        let mut attempt = 0u64;
        loop {
            attempt += 1;
            let result = async {
                let mut $w = store.begin_write().await?;
                if let Some(key) = idem
                    && let Some(stored) = $crate::sql::idempotency::find(&mut $w, key).await?
                {
                    return Ok($crate::model::Outcome::Replayed(stored));
                }
                let value = {
                    let $w = &mut $w;
                    $body
                }?;
                store.finish_write($w, idem, value).await
            }
            .await;
            match result {
                Err(e) if e.is_retryable() && attempt < 6 => {
                    tracing::debug!(attempt, error = %e, "retrying write transaction");
                    tokio::time::sleep(std::time::Duration::from_millis(5 * attempt * attempt)).await;
                }
                r => break r,
            }
        }
    }};
}
pub(crate) use write_tx;

use std::sync::Arc;
use std::time::Duration;

use group::{GroupCommit, Turn};
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, Transaction};
use wantloop_core::time::now_ms;

use crate::error::StoreError;
use crate::model::{Backend, Fence, IdemKey, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Names the index a `FROM table` should read, where SQLite's planner,
    /// which has no statistics (no `ANALYZE`), would pick a worse one: a
    /// partial index of a few due rows loses to an index on `status` that
    /// holds every open row. PostgreSQL's planner has statistics.
    pub(crate) fn indexed_by(self, index: &str) -> String {
        match self {
            Self::Sqlite => format!(" INDEXED BY {index}"),
            Self::Postgres => String::new(),
        }
    }

    /// Row-lock suffix for a `SELECT` inside a write transaction. SQLite has no row
    /// locks and needs none: its writers are serialised (see `SqlStore::write_gate`).
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }
}

/// The SQL store. Cheap to clone (a pool handle).
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
    /// SQLite allows one writer at a time: in-process writers queue here
    /// instead of failing with "database is locked", and those that queue
    /// share one commit (see `group.rs`). `None` for PostgreSQL, whose row
    /// locks suffice and whose commits are grouped by the server.
    group: Option<Arc<GroupCommit>>,
    /// SQLite's background WAL checkpoint (`checkpoint.rs`).
    _checkpointer: Option<Arc<checkpoint::Checkpointer>>,
    /// Set on a copy made by `Store::fenced`: every write transaction
    /// checks and records it first (`cluster.rs`).
    fence: Option<Arc<Fence>>,
    /// Where model files go; `None`: in their database rows (`blobs.rs`).
    blobs: Option<crate::Blobs>,
}

/// Where a write transaction runs: its own PostgreSQL transaction, or a
/// savepoint in SQLite's group transaction. Either derefs to the connection,
/// so the row modules write `&mut *w.tx` the same way for both.
pub(crate) enum TxConn {
    Own(Transaction<'static, Any>),
    Group(Turn),
}

impl std::ops::Deref for TxConn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            Self::Own(tx) => tx,
            Self::Group(turn) => turn,
        }
    }
}

impl std::ops::DerefMut for TxConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Self::Own(tx) => tx,
            Self::Group(turn) => turn,
        }
    }
}

/// A write transaction with the clock reading taken when it began.
pub(crate) struct WriteTx {
    pub(crate) tx: TxConn,
    pub(crate) dialect: Dialect,
    pub(crate) now: i64,
    /// Events of this transaction, written at commit (see [`outbox::flush`]).
    pub(crate) events: Vec<outbox::PendingEvent>,
    /// The key the writing request acts for (see [`crate::actor`]).
    pub(crate) actor: Option<i64>,
}

impl SqlStore {
    /// Connects to `sqlite://PATH` (created if missing, WAL mode) or
    /// `postgres://…`, and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let pool = match dialect {
            Dialect::Sqlite => {
                let url = if url.contains('?') { url.to_string() } else { format!("{url}?mode=rwc") };
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL lets readers run beside the writer; FULL sync makes an
                            // acknowledged commit durable even if the machine fails.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            // 32 MiB of page cache per connection (the default is 2 MiB):
                            // at 100,000 rows the indexes no longer fit in 2 MiB, and every
                            // insert into them re-read pages.
                            conn.execute("PRAGMA cache_size = -32768").await?;
                            // Checkpoints run in the background (`checkpoint.rs`); a
                            // commit checkpoints only past this safety threshold.
                            conn.execute(checkpoint::SAFETY_THRESHOLD).await?;
                            Ok(())
                        })
                    })
                    // A connection in this process cannot go away: pinging each
                    // before use was a round trip to its worker thread per query.
                    .test_before_acquire(false)
                    .connect(&url)
                    .await?
            }
            Dialect::Postgres => {
                AnyPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?
            }
        };
        migrate::run(&pool, dialect).await?;
        let group = (dialect == Dialect::Sqlite).then(|| Arc::new(GroupCommit::default()));
        let _checkpointer = (dialect == Dialect::Sqlite).then(|| checkpoint::start(pool.clone()));
        Ok(Self { pool, dialect, group, _checkpointer, fence: None, blobs: None })
    }

    /// Connects to a read replica of a PostgreSQL store: no migrations (the
    /// primary runs them), every transaction read-only, and its schema at
    /// this build's version. For list reads, which may then lag the primary
    /// by the replication delay; writes through it are refused.
    pub async fn connect_replica(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        }
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("SET default_transaction_read_only = on").await?;
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        let applied: (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&pool)
            .await
            .map_err(|e| StoreError::Replica(format!("cannot read its schema version: {e}")))?;
        let want = migrate::latest(Dialect::Postgres);
        if applied.0 != Some(want) {
            return Err(StoreError::Replica(format!(
                "its schema is at version {}, this build needs {want}",
                applied.0.unwrap_or(0)
            )));
        }
        Ok(Self { pool, dialect: Dialect::Postgres, group: None, _checkpointer: None, fence: None, blobs: None })
    }

    pub(crate) fn backend(&self) -> Backend {
        match self.dialect {
            Dialect::Sqlite => Backend::Sqlite,
            Dialect::Postgres => Backend::Postgres,
        }
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub(crate) async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let tx = match &self.group {
            Some(group) => TxConn::Group(group.begin(&self.pool).await?),
            None => TxConn::Own(self.pool.begin().await?),
        };
        let actor = crate::actor::current();
        let mut w = WriteTx { tx, dialect: self.dialect, now: now_ms(), events: Vec::new(), actor };
        if let Some(fence) = &self.fence {
            cluster::check(&mut w, fence).await?;
        }
        Ok(w)
    }

    /// This store, its writes fenced by `fence` (see [`Store::fenced`]).
    /// This store with model files kept in `blobs` instead of the database.
    /// Rows written before keep their bytes and are still read.
    pub fn with_blobs(self, blobs: crate::Blobs) -> Self {
        Self { blobs: Some(blobs), ..self }
    }

    pub(crate) fn blobs(&self) -> Option<&crate::Blobs> {
        self.blobs.as_ref()
    }

    pub(crate) fn with_fence(&self, fence: Fence) -> Self {
        Self { fence: Some(Arc::new(fence)), ..self.clone() }
    }

    pub(crate) fn fence(&self) -> Option<&Fence> {
        self.fence.as_deref()
    }

    /// Commits a write transaction, first storing the response for the
    /// idempotency key (if any) in the same transaction as the effect.
    pub(crate) async fn finish_write<T: Serialize>(
        &self,
        mut w: WriteTx,
        idem: Option<&IdemKey>,
        value: T,
    ) -> Result<Outcome<T>, StoreError> {
        if let Some(key) = idem {
            let body = serde_json::to_string(&value)?;
            if let Err(e) = idempotency::insert(&mut w, key, &body).await {
                drop(w);
                // A concurrent request with the same key committed first: its
                // effect stands and ours is rolled back; answer with its response.
                if let StoreError::Database(sqlx::Error::Database(db)) = &e
                    && db.is_unique_violation()
                {
                    return idempotency::find_committed(&self.pool, key).await.map(Outcome::Replayed);
                }
                return Err(e);
            }
        }
        outbox::flush(&mut w).await?;
        match (w.tx, &self.group) {
            (TxConn::Own(tx), _) => tx.commit().await?,
            (TxConn::Group(turn), Some(group)) => group.finish(turn).await?,
            (TxConn::Group(_), None) => return Err(StoreError::Commit("a group write without a group".into())),
        }
        Ok(Outcome::Done(value))
    }
}

impl SqlStore {
    /// Closes the pool, waiting for connections to finish (an open group of
    /// SQLite writes is committed first).
    pub async fn close(&self) {
        if let Some(group) = &self.group {
            group.close().await;
        }
        self.pool.close().await;
    }
}
