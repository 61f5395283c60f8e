//! The operators' synonym list: checked, saved as a new version (its event
//! carries it to every node's index through the outbox, `indexer.rs`), and
//! loaded at open. The list in force is the bundled bilingual dictionary
//! followed by the operators' newest version.

use serde::Serialize;
use wantloop_search::{SearchIndex, Synonyms};
use wantloop_store::SynonymList;

use crate::{Engine, EngineError};

/// Longest list accepted, in bytes (the API's body limit is about as large).
pub const MAX_SYNONYMS_BYTES: usize = 60_000;

/// The list in force.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SynonymsInForce {
    /// The operators' newest version, if one was saved.
    pub list: Option<SynonymList>,
    /// Rules of the bundled bilingual dictionary (always applied first).
    pub bundled_rules: usize,
    /// Rules applied in all.
    pub rules: usize,
}

/// Puts `list` (with the bundled dictionary before it) into `index`, unless
/// the index already has a newer version. A stored list that no longer
/// parses (it was checked when saved) is logged and skipped.
pub(crate) fn apply(index: &SearchIndex, list: &SynonymList) {
    match Synonyms::parse(&list.rules) {
        Ok(own) => {
            index.set_synonyms(list.version, Synonyms::bundled().and(&own));
        }
        Err(e) => tracing::error!(version = list.version, error = %e, "a stored synonym list does not parse"),
    }
}

impl Engine {
    /// Checks and saves a new version of the operators' synonym list; this
    /// node's index has it on return, the others within their next catch-up.
    pub async fn save_synonyms(&self, rules: &str, author: Option<&str>) -> Result<SynonymList, EngineError> {
        if rules.len() > MAX_SYNONYMS_BYTES {
            return Err(wantloop_search::SynonymError {
                line: 0,
                why: format!("the list is {} bytes; at most {MAX_SYNONYMS_BYTES}", rules.len()),
            }
            .into());
        }
        Synonyms::parse(rules)?;
        let saved = self.store.save_synonyms(rules, author).await?;
        apply(&self.search, &saved);
        Ok(saved)
    }

    /// The list in force on this node.
    pub async fn synonyms(&self) -> Result<SynonymsInForce, EngineError> {
        let list = self.store.current_synonyms().await?;
        Ok(SynonymsInForce { list, bundled_rules: Synonyms::bundled().len(), rules: self.search.synonyms().len() })
    }

    /// Saved versions, newest first.
    pub async fn synonym_versions(&self, limit: u32) -> Result<Vec<SynonymList>, EngineError> {
        Ok(self.store.synonym_versions(limit).await?)
    }

    /// The phrases `text` is expanded with by the list in force.
    pub fn synonym_expansions(&self, text: &str) -> Vec<String> {
        self.search.synonyms().expansions(text)
    }
}
