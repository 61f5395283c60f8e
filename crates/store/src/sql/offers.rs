//! Offer rows: posting, reads, withdrawal, candidates for a demand, and the
//! guarded capacity updates that make over-booking impossible.

use sqlx::{AnyPool, AssertSqlSafe};
use wantloop_core::{Demand, NewOffer, Offer, OfferStatus};

use super::args::{Arg, Where};
use super::rows::{MATCH_COLS, OFFER_COLS, matched, offer};
use super::{WriteTx, outbox};
use crate::error::StoreError;
use crate::model::{OfferFilter, Page};

/// Where a new offer comes from: posted by a provider, or relisted from a fulfilled match.
pub(crate) struct Origin {
    pub offer_id: i64,
    pub match_id: i64,
}

pub(crate) async fn insert(w: &mut WriteTx, o: &NewOffer, origin: Option<Origin>) -> Result<Offer, StoreError> {
    let sql = format!(
        "INSERT INTO offers (provider, text, category, price, lat, lon, capacity, status, condition, \
         origin_offer_id, origin_match_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, CASE WHEN $12 = 1 THEN $5 END, CASE WHEN $12 = 1 THEN $6 END, $7, 'available', \
         $8, $9, $10, $11, $11) RETURNING {OFFER_COLS}"
    );
    // Optional floats are bound as a value and a presence flag: sqlx 0.9's
    // `Any` driver sends a NULL `f64` as a `float4` parameter, so a cached
    // statement first prepared with a missing value would reject a present
    // one ("incorrect binary data format"). A float that is always bound keeps
    // one type, and the statement stays cached.
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(o.provider.as_str())
        .bind(o.text.as_str())
        .bind(o.category.as_str())
        .bind(o.price.minor())
        .bind(o.location.map_or(0.0, |l| l.lat))
        .bind(o.location.map_or(0.0, |l| l.lon))
        .bind(o.capacity.get())
        .bind(o.condition.clone())
        .bind(origin.as_ref().map(|g| g.offer_id))
        .bind(origin.as_ref().map(|g| g.match_id))
        .bind(w.now)
        .bind(i64::from(o.location.is_some()))
        .fetch_one(&mut *w.tx)
        .await?;
    let created = offer(&row)?;
    let kind = if origin.is_some() { "offer.relisted" } else { "offer.created" };
    outbox::emit(w, kind, "offer", created.id, &created).await?;
    Ok(created)
}

pub(crate) async fn get(pool: &AnyPool, id: i64) -> Result<Offer, StoreError> {
    let sql = format!("SELECT {OFFER_COLS} FROM offers WHERE id = $1");
    let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
    row.map(|r| offer(&r)).transpose()?.ok_or(StoreError::NotFound { entity: "offer", id })
}

pub(crate) async fn lock(w: &mut WriteTx, id: i64) -> Result<Offer, StoreError> {
    let sql = format!("SELECT {OFFER_COLS} FROM offers WHERE id = $1{}", w.dialect.for_update());
    let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *w.tx).await?;
    row.map(|r| offer(&r)).transpose()?.ok_or(StoreError::NotFound { entity: "offer", id })
}

fn filtered(f: &OfferFilter) -> Where {
    let mut w = Where::default();
    w.push_opt_text("status", f.status.map(|s| s.as_str()))
        .push_opt_text("category", f.category.as_deref())
        .push_opt_text("provider", f.provider.as_deref());
    w
}

/// The most candidates the store's fallback returns for one demand.
pub const CANDIDATE_LIMIT: u32 = 500;

pub(crate) async fn list(pool: &AnyPool, f: &OfferFilter, page: Page) -> Result<Vec<Offer>, StoreError> {
    let mut w = filtered(f);
    w.push("id", ">", Arg::Int(page.after));
    let tail = format!("ORDER BY id LIMIT {}", page.limit.clamp(1, Page::MAX_LIMIT));
    let rows = w.select(OFFER_COLS, "offers", &tail).fetch_all(pool).await?;
    rows.iter().map(offer).collect()
}

/// The newest `limit` offers matching `f`, newest first.
pub(crate) async fn newest(pool: &AnyPool, f: &OfferFilter, limit: u32) -> Result<Vec<Offer>, StoreError> {
    let tail = format!("ORDER BY id DESC LIMIT {}", limit.clamp(1, Page::MAX_LIMIT));
    let rows = filtered(f).select(OFFER_COLS, "offers", &tail).fetch_all(pool).await?;
    rows.iter().map(offer).collect()
}

/// Offers a demand could take, newest first, at most [`CANDIDATE_LIMIT`]:
/// the matcher's fallback when the search index finds few, so it must stay
/// bounded however large the category grows.
pub(crate) async fn candidates(pool: &AnyPool, d: &Demand) -> Result<Vec<Offer>, StoreError> {
    let mut w = Where::default();
    w.push("category", "=", Arg::Text(d.category.clone()))
        .raw("status = 'available'")
        .raw("reserved + consumed < capacity")
        .push("provider", "<>", Arg::Text(d.requester.clone()));
    if let Some(budget) = d.budget {
        w.push("price", "<=", Arg::Int(budget));
    }
    let tail = format!("ORDER BY id DESC LIMIT {CANDIDATE_LIMIT}");
    let rows = w.select(OFFER_COLS, "offers", &tail).fetch_all(pool).await?;
    rows.iter().map(offer).collect()
}

/// Reserves `units` of an offer for a demand if, and only if, the offer is
/// available, belongs to someone else, fits the category and budget, and has the
/// units free. The `WHERE` clause is the guard: concurrent reservations
/// re-evaluate it against the latest row, so capacity can never be exceeded.
pub(crate) async fn try_reserve(
    w: &mut WriteTx,
    offer_id: i64,
    units: i64,
    d: &Demand,
) -> Result<Option<Offer>, StoreError> {
    // One statement reserves, sets the status from the new free units (SET
    // reads the row as it was) and returns the row the match event carries:
    // each statement holds SQLite's one writer for a round trip to sqlx's
    // worker thread, so fewer statements per proposal shorten every writer's
    // queue.
    let sql = format!(
        "UPDATE offers SET reserved = reserved + $1, updated_at = $2, \
           status = CASE WHEN reserved + consumed + $1 >= capacity THEN 'exhausted' ELSE 'available' END \
         WHERE id = $3 AND status = 'available' AND reserved + consumed + $1 <= capacity \
           AND provider <> $4 AND category = $5 AND ($6 < 0 OR price <= $6) RETURNING {OFFER_COLS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(units)
        .bind(w.now)
        .bind(offer_id)
        .bind(&d.requester)
        .bind(&d.category)
        .bind(d.budget.unwrap_or(-1))
        .fetch_optional(&mut *w.tx)
        .await?;
    row.map(|r| offer(&r)).transpose()
}

/// Moves units of an offer: `release` leaves `reserved`, `consume` of those moves to `consumed`.
pub(crate) async fn adjust(w: &mut WriteTx, offer_id: i64, release: i64, consume: i64) -> Result<(), StoreError> {
    // The status follows the new free units in the same statement, as in `try_reserve`.
    sqlx::query(
        "UPDATE offers SET reserved = reserved - $1, consumed = consumed + $2, updated_at = $3, \
           status = CASE WHEN status = 'withdrawn' THEN status \
             WHEN reserved - $1 + consumed + $2 >= capacity THEN 'exhausted' ELSE 'available' END \
         WHERE id = $4",
    )
    .bind(release)
    .bind(consume)
    .bind(w.now)
    .bind(offer_id)
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}

/// Withdraws an offer and expires its proposed matches in the same
/// transaction, so no crash can leave live proposals on a withdrawn offer.
/// Locks follow the global order (demands, then the offer, then matches): the
/// demands of the offer's proposals are read first and locked in id order.
pub(crate) async fn withdraw(w: &mut WriteTx, id: i64) -> Result<Offer, StoreError> {
    let proposed_demands: Vec<(i64,)> = sqlx::query_as(
        "SELECT DISTINCT demand_id FROM matches WHERE offer_id = $1 AND status = 'proposed' ORDER BY demand_id",
    )
    .bind(id)
    .fetch_all(&mut *w.tx)
    .await?;
    for (demand_id,) in &proposed_demands {
        super::demands::lock(w, *demand_id).await?;
    }
    let current = lock(w, id).await?;
    if current.status == OfferStatus::Withdrawn {
        return Err(StoreError::illegal("offer", id, "withdraw", current.status.as_str()));
    }
    sqlx::query("UPDATE offers SET status = 'withdrawn', updated_at = $1 WHERE id = $2")
        .bind(w.now)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
    let sql = format!(
        "SELECT {MATCH_COLS} FROM matches WHERE offer_id = $1 AND status = 'proposed' ORDER BY id{}",
        w.dialect.for_update()
    );
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_all(&mut *w.tx).await?;
    for row in &rows {
        let m = matched(row)?;
        // A proposal made between the first read and the offer lock: its
        // demand is locked out of order, which at worst is a deadlock that
        // PostgreSQL breaks and the write retries.
        super::matches::release(w, &m, wantloop_core::MatchStatus::Expired).await?;
    }
    let withdrawn = lock(w, id).await?;
    outbox::emit(w, "offer.withdrawn", "offer", id, &withdrawn).await?;
    Ok(withdrawn)
}

/// The offers with these ids (chunked to stay within parameter limits).
pub(crate) async fn by_ids(pool: &AnyPool, ids: &[i64]) -> Result<Vec<Offer>, StoreError> {
    super::rows::by_ids(pool, "offers", OFFER_COLS, ids, offer).await
}
