//! Demand rows: intake, reads, and closing (cancel / expire) with release of
//! the units their live matches hold.

use sqlx::{AnyPool, AssertSqlSafe};
use wantloop_core::demand::NewDemand;
use wantloop_core::{Demand, DemandStatus, MatchStatus};

use super::args::{Arg, Where};
use super::rows::{DEMAND_COLS, MATCH_COLS, demand, matched};
use super::{Dialect, WriteTx, matches, outbox};
use crate::error::StoreError;
use crate::model::{Classification, DemandFilter, Page};

/// Posts one demand: the bulk writer with one row, so both paths write the
/// same columns the same way.
pub(crate) async fn insert(w: &mut WriteTx, d: &NewDemand, class: &Classification) -> Result<Demand, StoreError> {
    let mut created = super::bulk::insert_demands(w, &[(d.clone(), class.clone())]).await?;
    created.pop().ok_or_else(|| StoreError::Corrupt("an insert returned no row".into()))
}

pub(crate) async fn get(pool: &AnyPool, id: i64) -> Result<Demand, StoreError> {
    let sql = format!("SELECT {DEMAND_COLS} FROM demands WHERE id = $1");
    let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
    row.map(|r| demand(&r)).transpose()?.ok_or(StoreError::NotFound { entity: "demand", id })
}

/// Reads a demand and, on PostgreSQL, locks its row until the transaction ends.
/// Lock order everywhere: demand, then offer, then match rows.
pub(crate) async fn lock(w: &mut WriteTx, id: i64) -> Result<Demand, StoreError> {
    let sql = format!("SELECT {DEMAND_COLS} FROM demands WHERE id = $1{}", w.dialect.for_update());
    let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *w.tx).await?;
    row.map(|r| demand(&r)).transpose()?.ok_or(StoreError::NotFound { entity: "demand", id })
}

fn filtered(f: &DemandFilter) -> Where {
    let mut w = Where::default();
    w.push_opt_text("status", f.status.map(|s| s.as_str()))
        .push_opt_text("category", f.category.as_deref())
        .push_opt_text("requester", f.requester.as_deref())
        .push_opt_int("needs_review", f.needs_review.map(i64::from));
    w
}

pub(crate) async fn list(pool: &AnyPool, f: &DemandFilter, page: Page) -> Result<Vec<Demand>, StoreError> {
    let mut w = filtered(f);
    w.push("id", ">", Arg::Int(page.after));
    let tail = format!("ORDER BY id LIMIT {}", page.limit.clamp(1, Page::MAX_LIMIT));
    let rows = w.select(DEMAND_COLS, "demands", &tail).fetch_all(pool).await?;
    rows.iter().map(demand).collect()
}

/// The newest `limit` demands matching `f`, newest first.
pub(crate) async fn newest(pool: &AnyPool, f: &DemandFilter, limit: u32) -> Result<Vec<Demand>, StoreError> {
    let tail = format!("ORDER BY id DESC LIMIT {}", limit.clamp(1, Page::MAX_LIMIT));
    let rows = filtered(f).select(DEMAND_COLS, "demands", &tail).fetch_all(pool).await?;
    rows.iter().map(demand).collect()
}

/// Moves a demand's units (`matched` and `fulfilled` are changes, either
/// sign) and sets its status from the new counts, unless it is cancelled or
/// expired: one statement that returns the row (see `offers::try_reserve`),
/// and the one place the demand's status rule is written.
pub(crate) async fn move_units(w: &mut WriteTx, id: i64, matched: i64, fulfilled: i64) -> Result<Demand, StoreError> {
    let sql = format!(
        "UPDATE demands SET matched_units = matched_units + $1, fulfilled_units = fulfilled_units + $2, \
           updated_at = $3, status = CASE \
           WHEN status IN ('cancelled', 'expired') THEN status \
           WHEN fulfilled_units + $2 >= quantity THEN 'fulfilled' \
           WHEN matched_units + $1 + fulfilled_units + $2 >= quantity THEN 'matched' \
           ELSE 'open' END \
         WHERE id = $4 RETURNING {DEMAND_COLS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(matched)
        .bind(fulfilled)
        .bind(w.now)
        .bind(id)
        .fetch_optional(&mut *w.tx)
        .await?;
    row.map(|r| demand(&r)).transpose()?.ok_or(StoreError::NotFound { entity: "demand", id })
}

/// Cancels or expires a demand: its proposed matches become `released_as`, its
/// accepted ones `rejected`, and their units go back to the offers.
pub(crate) async fn close(w: &mut WriteTx, id: i64, to: DemandStatus) -> Result<Demand, StoreError> {
    let (action, kind) = match to {
        DemandStatus::Cancelled => ("cancel", "demand.cancelled"),
        _ => ("expire", "demand.expired"),
    };
    let current = lock(w, id).await?;
    if !matches!(current.status, DemandStatus::Open | DemandStatus::Matched) {
        return Err(StoreError::illegal("demand", id, action, current.status.as_str()));
    }
    let sql = format!(
        "SELECT {MATCH_COLS} FROM matches WHERE demand_id = $1 AND status IN ('proposed', 'accepted') ORDER BY offer_id{}",
        w.dialect.for_update()
    );
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_all(&mut *w.tx).await?;
    let live = rows.iter().map(matched).collect::<Result<Vec<_>, _>>()?;
    let proposed_to = if to == DemandStatus::Cancelled { MatchStatus::Rejected } else { MatchStatus::Expired };
    for m in &live {
        let target = if m.status == MatchStatus::Proposed { proposed_to } else { MatchStatus::Rejected };
        matches::release(w, m, target).await?;
    }
    sqlx::query("UPDATE demands SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(to.as_str())
        .bind(w.now)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
    let closed = lock(w, id).await?;
    outbox::emit(w, kind, "demand", id, &closed).await?;
    Ok(closed)
}

/// Ids of up to `limit` open or matched demands whose expiry time has
/// passed, the longest overdue first (a range of the `demands_due` index).
pub(crate) async fn due(pool: &AnyPool, dialect: Dialect, now: i64, limit: i64) -> Result<Vec<i64>, StoreError> {
    let sql = format!(
        "SELECT id FROM demands{} WHERE status IN ('open', 'matched') AND expires_at IS NOT NULL AND expires_at <= $1 \
         ORDER BY expires_at, id LIMIT $2",
        dialect.indexed_by("demands_due")
    );
    let ids: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(limit).fetch_all(pool).await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// The demands with these ids that exist, in no particular order.
pub(crate) async fn by_ids(pool: &AnyPool, ids: &[i64]) -> Result<Vec<Demand>, StoreError> {
    super::rows::by_ids(pool, "demands", DEMAND_COLS, ids, demand).await
}
