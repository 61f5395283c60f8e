//! Decoding rows into domain entities. Column lists live beside their decoders
//! so that a `SELECT` and its decoding can never disagree.

use sqlx::Row;
use sqlx::any::AnyRow;
use wantloop_core::demand::CategorySource;
use wantloop_core::{Demand, DemandStatus, GeoPoint, Match, MatchStatus, Offer, OfferStatus, Priority};

use crate::error::StoreError;

pub(crate) const DEMAND_COLS: &str = "id, requester, text, category, category_source, category_confidence, \
     category_model, needs_review, priority, budget, lat, lon, max_distance_km, quantity, matched_units, fulfilled_units, status, \
     created_at, updated_at, expires_at";

pub(crate) const OFFER_COLS: &str = "id, provider, text, category, price, lat, lon, capacity, reserved, \
     consumed, status, condition, origin_offer_id, origin_match_id, created_at, updated_at";

pub(crate) const MATCH_COLS: &str =
    "id, demand_id, offer_id, units, score, features, status, relisted_offer_id, created_at, updated_at, expires_at";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} {value:?}"))
}

fn point(row: &AnyRow) -> Result<Option<GeoPoint>, StoreError> {
    let lat: Option<f64> = row.try_get("lat")?;
    let lon: Option<f64> = row.try_get("lon")?;
    Ok(lat.zip(lon).map(|(lat, lon)| GeoPoint { lat, lon }))
}

pub(crate) fn demand(row: &AnyRow) -> Result<Demand, StoreError> {
    let status: String = row.try_get("status")?;
    let priority: String = row.try_get("priority")?;
    let source: String = row.try_get("category_source")?;
    Ok(Demand {
        id: row.try_get("id")?,
        requester: row.try_get("requester")?,
        text: row.try_get("text")?,
        category: row.try_get("category")?,
        category_source: CategorySource::from_db(&source),
        category_confidence: row.try_get("category_confidence")?,
        category_model: row.try_get("category_model")?,
        needs_review: row.try_get::<i64, _>("needs_review")? != 0,
        priority: Priority::parse("priority", &priority).map_err(|_| corrupt("priority", &priority))?,
        budget: row.try_get("budget")?,
        location: point(row)?,
        max_distance_km: row.try_get("max_distance_km")?,
        quantity: row.try_get("quantity")?,
        matched_units: row.try_get("matched_units")?,
        fulfilled_units: row.try_get("fulfilled_units")?,
        status: DemandStatus::parse("status", &status).map_err(|_| corrupt("demand status", &status))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

pub(crate) fn offer(row: &AnyRow) -> Result<Offer, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(Offer {
        id: row.try_get("id")?,
        provider: row.try_get("provider")?,
        text: row.try_get("text")?,
        category: row.try_get("category")?,
        price: row.try_get("price")?,
        location: point(row)?,
        capacity: row.try_get("capacity")?,
        reserved: row.try_get("reserved")?,
        consumed: row.try_get("consumed")?,
        status: OfferStatus::parse("status", &status).map_err(|_| corrupt("offer status", &status))?,
        condition: row.try_get("condition")?,
        origin_offer_id: row.try_get("origin_offer_id")?,
        origin_match_id: row.try_get("origin_match_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) fn matched(row: &AnyRow) -> Result<Match, StoreError> {
    let status: String = row.try_get("status")?;
    let features: String = row.try_get("features")?;
    Ok(Match {
        id: row.try_get("id")?,
        demand_id: row.try_get("demand_id")?,
        offer_id: row.try_get("offer_id")?,
        units: row.try_get("units")?,
        score: row.try_get("score")?,
        features: serde_json::from_str(&features)?,
        status: MatchStatus::parse("status", &status).map_err(|_| corrupt("match status", &status))?,
        relisted_offer_id: row.try_get("relisted_offer_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

/// The rows of `table` with these ids (those that exist, in no particular
/// order), decoded by `decode`; chunked to stay within parameter limits.
pub(crate) async fn by_ids<T>(
    pool: &sqlx::AnyPool,
    table: &str,
    cols: &str,
    ids: &[i64],
    decode: fn(&AnyRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT {cols} FROM {table} WHERE id IN ({})", marks.join(", "));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q.fetch_all(pool).await? {
            out.push(decode(&row)?);
        }
    }
    Ok(out)
}
