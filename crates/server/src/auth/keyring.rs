//! Checks presented keys against the store, remembering each key's row for a
//! few seconds so that a busy client costs one lookup per interval, not one
//! per request. A revocation through this node's API takes effect at once
//! (the id is also kept in a list of revoked ids that every check reads, so
//! a lookup racing the revocation cannot put the old row back); one made
//! elsewhere (the CLI, another node) within [`REMEMBER`]. Unknown ids are
//! not remembered: a key made a moment later must work at once.

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
    /// Key id → the row and its secret's hash.
    rows: Cache<i64, Arc<(ApiKey, String)>>,
    /// Ids revoked through this node, kept longer than any remembered row.
    revoked: Cache<i64, ()>,
}

impl Keyring {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            rows: Cache::builder().max_capacity(10_000).time_to_live(REMEMBER).build(),
            revoked: Cache::builder().max_capacity(10_000).time_to_live(REMEMBER * 2).build(),
        }
    }

    /// The key `raw` names, if it is one of ours, its secret matches, and it
    /// is not revoked.
    pub async fn check(&self, raw: &str) -> Result<Option<ApiKey>, StoreError> {
        let Some(token) = KeyToken::parse(raw) else { return Ok(None) };
        if self.revoked.contains_key(&token.id) {
            return Ok(None);
        }
        let row = match self.rows.get(&token.id) {
            Some(row) => Some(row),
            None => {
                let row = self.store.key_with_hash(token.id).await?.map(Arc::new);
                if let Some(r) = &row {
                    self.rows.insert(token.id, r.clone());
                }
                row
            }
        };
        // Comparing digests needs no constant-time compare: timing would tell
        // an attacker about the hash of their own guess, not about the secret.
        Ok(row.filter(|r| r.1 == token.secret_hash() && r.0.revoked_at.is_none()).map(|r| r.0.clone()))
    }

    /// Forgets what is remembered of a key (after it was revoked here).
    pub fn forget(&self, id: i64) {
        self.revoked.insert(id, ());
        self.rows.invalidate(&id);
    }
}
