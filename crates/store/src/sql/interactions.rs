//! Interaction rows: recorded through the API or by the match lifecycle
//! (accept, fulfil), read back as histories and popularity.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, Row};
use wantloop_core::{Interaction, InteractionKind, NewInteraction};

use super::{WriteTx, outbox};
use crate::error::StoreError;

const COLS: &str = "id, user_id, offer_id, kind, value, created_at";

fn decode(r: &AnyRow) -> Result<Interaction, StoreError> {
    let kind: String = r.try_get("kind")?;
    Ok(Interaction {
        id: r.try_get("id")?,
        user: r.try_get("user_id")?,
        offer_id: r.try_get("offer_id")?,
        kind: InteractionKind::parse("kind", &kind)
            .map_err(|_| StoreError::Corrupt(format!("interaction kind {kind:?}")))?,
        value: r.try_get("value")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Inserts one interaction inside the caller's transaction (no event: the
/// caller's own event covers it).
pub(crate) async fn insert(w: &mut WriteTx, i: &NewInteraction) -> Result<Interaction, StoreError> {
    let sql = format!(
        "INSERT INTO interactions (user_id, offer_id, kind, value, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING {COLS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(i.user.as_str())
        .bind(i.offer_id)
        .bind(i.kind.as_str())
        .bind(i.value)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await?;
    decode(&row)
}

/// Records a batch; every offer must exist. One event for the batch.
pub(crate) async fn record(w: &mut WriteTx, batch: &[NewInteraction]) -> Result<Vec<Interaction>, StoreError> {
    let mut out = Vec::with_capacity(batch.len());
    for i in batch {
        let exists =
            sqlx::query("SELECT id FROM offers WHERE id = $1").bind(i.offer_id).fetch_optional(&mut *w.tx).await?;
        if exists.is_none() {
            return Err(StoreError::NotFound { entity: "offer", id: i.offer_id });
        }
        out.push(insert(w, i).await?);
    }
    if let Some(first) = out.first() {
        let payload = serde_json::json!({ "count": out.len(), "first_id": first.id });
        outbox::emit(w, "interactions.recorded", "interaction", first.id, &payload).await?;
    }
    Ok(out)
}

/// A person's newest `limit` interactions, oldest first.
pub(crate) async fn by_user(pool: &AnyPool, user: &str, limit: u32) -> Result<Vec<Interaction>, StoreError> {
    let sql = format!("SELECT {COLS} FROM interactions WHERE user_id = $1 ORDER BY id DESC LIMIT $2");
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(user.to_string()).bind(i64::from(limit)).fetch_all(pool).await?;
    let mut out: Vec<Interaction> = rows.iter().map(decode).collect::<Result<_, _>>()?;
    out.reverse();
    Ok(out)
}

pub(crate) async fn after(pool: &AnyPool, after: i64, limit: u32) -> Result<Vec<Interaction>, StoreError> {
    let rows =
        sqlx::query(AssertSqlSafe(format!("SELECT {COLS} FROM interactions WHERE id > $1 ORDER BY id LIMIT $2")))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?;
    rows.iter().map(decode).collect()
}

/// Offers by number of interactions since `since` (ms), most first.
pub(crate) async fn popular(pool: &AnyPool, since: i64, limit: u32) -> Result<Vec<(i64, i64)>, StoreError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT offer_id, CAST(COUNT(*) AS BIGINT) AS n FROM interactions WHERE created_at >= $1 \
         GROUP BY offer_id ORDER BY n DESC, offer_id LIMIT $2",
    )
    .bind(since)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(rows)
}
