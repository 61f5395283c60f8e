//! Storage errors, typed so that the HTTP layer can map each to one status.

use wantloop_core::MatchStatus;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: i64 },
    /// The requested state change is not allowed from the current state.
    #[error("cannot {action} {entity} {id}: it is {status}")]
    IllegalTransition { entity: &'static str, id: i64, action: &'static str, status: String },
    /// The idempotency key was used before with a different request.
    #[error("idempotency key {0:?} was already used with a different request")]
    IdempotencyKeyReused(String),
    /// A relisting asked for more units than the match fulfilled.
    #[error("relist.quantity {requested} exceeds the {available} fulfilled units")]
    RelistTooLarge { requested: i64, available: i64 },
    /// An owner already has the most images it may have.
    #[error("{entity} {id} already has {limit} images, the most it may have")]
    TooManyImages { entity: &'static str, id: i64, limit: u32 },
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A leader-only write carried a lease token below the highest the store
    /// has seen for that lease: its holder lost the lease (see `sql/cluster.rs`).
    #[error("lease {lease:?} token {token} is fenced off: the store has seen token {highest}")]
    Fenced { lease: String, token: u64, highest: u64 },
    /// The object store holding model files failed, or is not configured
    /// where a row says its bytes are.
    #[error("blob store: {0}")]
    Blob(String),
    /// The read replica cannot serve this build.
    #[error("read replica: {0}")]
    Replica(String),
    /// The shared commit of a group of SQLite writes failed: none of them is stored.
    #[error("the write was not stored: {0}")]
    Commit(String),
}

impl StoreError {
    pub(crate) fn illegal(entity: &'static str, id: i64, action: &'static str, status: &str) -> Self {
        Self::IllegalTransition { entity, id, action, status: status.to_string() }
    }

    pub(crate) fn illegal_match(id: i64, action: &'static str, status: MatchStatus) -> Self {
        Self::illegal("match", id, action, status.as_str())
    }

    /// Whether retrying the whole transaction may succeed (deadlock or
    /// serialization failure under concurrent writers).
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("40P01" | "40001")) || e.message().contains("database is locked")
            }
            _ => false,
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}
