//! Versions of the operators' synonym list. Saving writes a new row and a
//! `synonyms.changed` event carrying the list, so every node's search index
//! swaps it in from the outbox; older versions stay for the record.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, Row};

use super::{WriteTx, outbox};
use crate::error::StoreError;
use crate::model::SynonymList;

const COLS: &str = "version, rules, author, created_at";

fn list(row: &AnyRow) -> Result<SynonymList, StoreError> {
    Ok(SynonymList {
        version: row.try_get("version")?,
        rules: row.try_get("rules")?,
        author: row.try_get("author")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) async fn save(w: &mut WriteTx, rules: &str, author: Option<&str>) -> Result<SynonymList, StoreError> {
    let sql = format!("INSERT INTO synonym_lists (rules, author, created_at) VALUES ($1, $2, $3) RETURNING {COLS}");
    let row = sqlx::query(AssertSqlSafe(sql)).bind(rules).bind(author).bind(w.now).fetch_one(&mut *w.tx).await?;
    let saved = list(&row)?;
    outbox::emit(w, "synonyms.changed", "synonyms", saved.version, &saved).await?;
    Ok(saved)
}

/// The newest versions first, at most `limit` (1–100).
pub(crate) async fn newest(pool: &AnyPool, limit: u32) -> Result<Vec<SynonymList>, StoreError> {
    let sql = format!("SELECT {COLS} FROM synonym_lists ORDER BY version DESC LIMIT {}", limit.clamp(1, 100));
    let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(pool).await?;
    rows.iter().map(list).collect()
}
