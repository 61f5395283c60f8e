//! The transactional outbox: `emit` writes an event row inside the caller's
//! transaction; `after` reads events by cursor.

use serde::Serialize;
use sqlx::{AnyPool, Row};
use wantloop_core::Event;

use super::{Dialect, WriteTx};
use crate::error::StoreError;

/// Any constant shared by all nodes; names the advisory lock below.
const OUTBOX_LOCK: i64 = 0x77_616e_746c_6f6f;

pub(crate) async fn emit(
    w: &mut WriteTx,
    kind: &str,
    entity: &str,
    entity_id: i64,
    payload: &impl Serialize,
) -> Result<(), StoreError> {
    if w.dialect == Dialect::Postgres {
        // Sequence values are handed out at insert time but become visible at
        // commit, so without this lock a reader could pass id 7 before id 6
        // commits and never see it. Holding the lock from the first event to the
        // commit makes commit order equal id order. (SQLite writers are serial.)
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(OUTBOX_LOCK).execute(&mut *w.tx).await?;
    }
    sqlx::query("INSERT INTO events (kind, entity, entity_id, payload, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(kind)
        .bind(entity)
        .bind(entity_id)
        .bind(serde_json::to_string(payload)?)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await?;
    Ok(())
}

pub(crate) async fn after(pool: &AnyPool, after: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind, entity, entity_id, payload, created_at FROM events WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let payload: String = r.try_get("payload")?;
            Ok(Event {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                entity: r.try_get("entity")?,
                entity_id: r.try_get("entity_id")?,
                payload: serde_json::from_str(&payload)?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}
