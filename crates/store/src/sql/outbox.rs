//! The transactional outbox: `emit` writes an event row inside the caller's
//! transaction; `after` reads events by cursor.

use serde::Serialize;
use sqlx::{AnyPool, Row};
use wantloop_core::Event;

use super::multi_row::{MultiRow, Value};
use super::{Dialect, WriteTx};
use crate::error::StoreError;

/// Any constant shared by all nodes; names the advisory lock below.
const OUTBOX_LOCK: i64 = 0x77_616e_746c_6f6f;

/// An event written by a transaction, inserted when the transaction commits.
pub(crate) struct PendingEvent {
    kind: String,
    entity: &'static str,
    entity_id: i64,
    payload: String,
}

/// Queues an event of the caller's transaction; [`flush`] writes it at commit.
pub(crate) async fn emit(
    w: &mut WriteTx,
    kind: &str,
    entity: &'static str,
    entity_id: i64,
    payload: &impl Serialize,
) -> Result<(), StoreError> {
    let payload = serde_json::to_string(payload)?;
    w.events.push(PendingEvent { kind: kind.to_string(), entity, entity_id, payload });
    Ok(())
}

/// Writes the transaction's events, as its last statement before `COMMIT`.
///
/// Readers follow the outbox by id, so ids must become visible in id order:
/// a reader that passed id 7 while id 6 was still uncommitted would never see
/// 6. Sequence values are handed out at insert time and become visible at
/// commit, so on PostgreSQL the insert and the commit run under one advisory
/// lock. Taking it last, after every row lock, means it is never held while
/// waiting for a row (no deadlock) and only for the insert and the commit, not
/// for the transaction's work. Ordering by transaction id (`xid8`) instead
/// would free even that, but a transaction's id is assigned at its first write,
/// not its commit, so two updates of one row could reach readers in the wrong
/// order. (SQLite writers are serial already.)
pub(crate) async fn flush(w: &mut WriteTx) -> Result<(), StoreError> {
    if w.events.is_empty() {
        return Ok(());
    }
    if w.dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(OUTBOX_LOCK).execute(&mut *w.tx).await?;
    }
    let events = std::mem::take(&mut w.events);
    const ROW: &str = "($1, $2, $3, $4, $5, $6)";
    for chunk in events.chunks(MultiRow::rows_per_statement(w.dialect, 6)) {
        let rows: Vec<Vec<Value>> = chunk
            .iter()
            .map(|e| {
                vec![
                    Value::Text(&e.kind),
                    Value::Text(e.entity),
                    Value::Int(e.entity_id),
                    Value::Text(&e.payload),
                    Value::Int(w.now),
                    Value::OptInt(w.actor),
                ]
            })
            .collect();
        let m = MultiRow::new(w.dialect, ROW, 6, rows.len());
        let q = m.bind(m.sql("INSERT INTO events (kind, entity, entity_id, payload, created_at, actor_key)", ""), rows);
        q.execute(&mut *w.tx).await?;
    }
    Ok(())
}

pub(crate) async fn after(pool: &AnyPool, after: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind, entity, entity_id, payload, created_at, actor_key FROM events WHERE id > $1 ORDER BY id LIMIT $2",
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
                actor_key: r.try_get("actor_key")?,
            })
        })
        .collect()
}
