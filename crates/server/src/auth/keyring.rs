//! Checks presented keys against the store, remembering each answer for a
//! few seconds so that a busy client costs one lookup per interval, not one
//! per request. A revocation through this node's API takes effect at once;
//! one made elsewhere (the CLI, another node) within [`REMEMBER`].

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use wantloop_core::ApiKey;
use wantloop_store::keys::KeyToken;
use wantloop_store::{Store, StoreError};

pub const REMEMBER: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Keyring {
    store: Arc<dyn Store>,
    /// Key id → the row and its secret's hash (`None`: no such key).
    rows: Cache<i64, Option<Arc<(ApiKey, String)>>>,
}

impl Keyring {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store, rows: Cache::builder().max_capacity(10_000).time_to_live(REMEMBER).build() }
    }

    /// The key `raw` names, if it is one of ours, its secret matches, and it
    /// is not revoked.
    pub async fn check(&self, raw: &str) -> Result<Option<ApiKey>, StoreError> {
        let Some(token) = KeyToken::parse(raw) else { return Ok(None) };
        let row = match self.rows.get(&token.id) {
            Some(row) => row,
            None => {
                let row = self.store.key_with_hash(token.id).await?.map(Arc::new);
                self.rows.insert(token.id, row.clone());
                row
            }
        };
        // Comparing digests needs no constant-time compare: timing would tell
        // an attacker about the hash of their own guess, not about the secret.
        Ok(row.filter(|r| r.1 == token.secret_hash() && r.0.revoked_at.is_none()).map(|r| r.0.clone()))
    }

    /// Forgets what is remembered of a key (after it was revoked here).
    pub fn forget(&self, id: i64) {
        self.rows.invalidate(&id);
    }
}
