//! Bulk intake for `wantloop import`: many offers or demands in one
//! transaction, written by multi-row `INSERT` statements, each row's
//! outbox event in the same transaction. Many rows per statement instead of
//! one (as many as the dialect binds cheaply, see
//! `multi_row.rs`) is what lets an import reach tens of
//! thousands of rows a second (the round trip, not the row, is the cost).

use sqlx::Row;
use sqlx::any::AnyRow;
use wantloop_core::demand::NewDemand;
use wantloop_core::{Demand, DemandStatus, NewOffer, Offer, OfferStatus};

use super::multi_row::{BoundQuery, MultiRow, Value};
use super::{Dialect, WriteTx, outbox};
use crate::error::StoreError;
use crate::model::Classification;

/// PostgreSQL returns the new ids; SQLite is asked for none (see [`inserted_ids`]).
fn returning_id(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => " RETURNING id",
    }
}

/// The ids the store gave the `n` rows of a multi-row insert, in `VALUES`
/// order. PostgreSQL hands them out in that order and returns them (in no
/// promised order: sorted). SQLite, whose writers are serial, gives each row
/// one more than the largest id so far, so a statement's ids are the `n`
/// ending at its last insert's id; asking for none saves sqlx's SQLite worker
/// sending each returned row across threads (a fifth of an import's time).
async fn inserted_ids(w: &mut WriteTx, q: BoundQuery<'_>, n: usize) -> Result<Vec<i64>, StoreError> {
    match w.dialect {
        Dialect::Postgres => {
            let rows: Vec<AnyRow> = q.fetch_all(&mut *w.tx).await?;
            let mut ids = rows.iter().map(|r| r.try_get::<i64, _>("id")).collect::<Result<Vec<_>, _>>()?;
            ids.sort_unstable();
            Ok(ids)
        }
        Dialect::Sqlite => {
            let done = q.execute(&mut *w.tx).await?;
            if done.rows_affected() != n as u64 {
                return Err(StoreError::Corrupt(format!(
                    "a bulk insert of {n} rows inserted {}",
                    done.rows_affected()
                )));
            }
            // (sqlx's `Any` result does not carry SQLite's last id: ask.)
            let last: i64 = sqlx::query_scalar("SELECT last_insert_rowid()").fetch_one(&mut *w.tx).await?;
            Ok((last + 1 - n as i64..=last).collect())
        }
    }
}

/// The row a posted offer becomes (what `rows::offer` would read back).
fn posted_offer(id: i64, n: &NewOffer, now: i64) -> Offer {
    Offer {
        id,
        provider: n.provider.as_str().to_string(),
        text: n.text.as_str().to_string(),
        category: n.category.as_str().to_string(),
        price: n.price.minor(),
        location: n.location,
        capacity: n.capacity.get(),
        reserved: 0,
        consumed: 0,
        status: OfferStatus::Available,
        condition: n.condition.clone(),
        origin_offer_id: None,
        origin_match_id: None,
        created_at: now,
        updated_at: now,
    }
}

/// The row a new demand becomes (what `rows::demand` would read back).
fn posted_demand(id: i64, n: &NewDemand, class: &Classification, now: i64) -> Demand {
    Demand {
        id,
        requester: n.requester.as_str().to_string(),
        text: n.text.as_str().to_string(),
        category: class.category.clone(),
        category_source: class.source,
        category_confidence: class.confidence,
        category_model: class.model.clone(),
        needs_review: class.needs_review,
        priority: n.priority,
        budget: n.budget.map(|b| b.minor()),
        location: n.location,
        max_distance_km: n.max_distance_km,
        quantity: n.quantity.get(),
        matched_units: 0,
        fulfilled_units: 0,
        status: DemandStatus::Open,
        created_at: now,
        updated_at: now,
        expires_at: n.expires_in_ms.map(|ms| now + ms),
    }
}

/// Posted offers only: a relisted offer (`offers::insert` with an origin)
/// carries its origin columns and another event kind, and is always one row.
pub(crate) async fn insert_offers(w: &mut WriteTx, offers: &[NewOffer]) -> Result<Vec<Offer>, StoreError> {
    // Optional floats as value plus presence flag: see `offers::insert`.
    const ROW: &str = "($1, $2, $3, $4, CASE WHEN $7 = 1 THEN $5 END, CASE WHEN $7 = 1 THEN $6 END, $8, 'available', \
                       $9, $10, $10)";
    let mut out = Vec::with_capacity(offers.len());
    for chunk in offers.chunks(MultiRow::rows_per_statement(w.dialect, MultiRow::uses(ROW, 10))) {
        let rows: Vec<Vec<Value>> = chunk
            .iter()
            .map(|o| {
                vec![
                    Value::Text(o.provider.as_str()),
                    Value::Text(o.text.as_str()),
                    Value::Text(o.category.as_str()),
                    Value::Int(o.price.minor()),
                    Value::Real(o.location.map_or(0.0, |l| l.lat)),
                    Value::Real(o.location.map_or(0.0, |l| l.lon)),
                    Value::Int(i64::from(o.location.is_some())),
                    Value::Int(o.capacity.get()),
                    Value::OptText(o.condition.as_deref()),
                    Value::Int(w.now),
                ]
            })
            .collect();
        let m = MultiRow::new(w.dialect, ROW, 10, rows.len());
        let sql = m.sql(
            "INSERT INTO offers (provider, text, category, price, lat, lon, capacity, status, condition, created_at, \
             updated_at)",
            returning_id(w.dialect),
        );
        let q = m.bind(sql, rows);
        let ids = inserted_ids(w, q, chunk.len()).await?;
        for (id, n) in ids.into_iter().zip(chunk) {
            let o = posted_offer(id, n, w.now);
            outbox::emit(w, "offer.created", "offer", o.id, &o).await?;
            out.push(o);
        }
    }
    Ok(out)
}

pub(crate) async fn insert_demands(
    w: &mut WriteTx,
    demands: &[(NewDemand, Classification)],
) -> Result<Vec<Demand>, StoreError> {
    const ROW: &str = "($1, $2, $3, $4, $5, $6, $7, CASE WHEN $10 = 1 THEN $8 END, CASE WHEN $10 = 1 THEN $9 END, \
                       CASE WHEN $12 = 1 THEN $11 END, $13, 'open', $14, $14, $15, $16, $17)";
    let mut out = Vec::with_capacity(demands.len());
    for chunk in demands.chunks(MultiRow::rows_per_statement(w.dialect, MultiRow::uses(ROW, 17))) {
        let rows: Vec<Vec<Value>> = chunk
            .iter()
            .map(|(d, class)| {
                vec![
                    Value::Text(d.requester.as_str()),
                    Value::Text(d.text.as_str()),
                    Value::Text(&class.category),
                    Value::Text(class.source.as_str()),
                    Value::Real(class.confidence),
                    Value::Text(d.priority.as_str()),
                    Value::OptInt(d.budget.map(|b| b.minor())),
                    Value::Real(d.location.map_or(0.0, |l| l.lat)),
                    Value::Real(d.location.map_or(0.0, |l| l.lon)),
                    Value::Int(i64::from(d.location.is_some())),
                    Value::Real(d.max_distance_km.unwrap_or(0.0)),
                    Value::Int(i64::from(d.max_distance_km.is_some())),
                    Value::Int(d.quantity.get()),
                    Value::Int(w.now),
                    Value::OptInt(d.expires_in_ms.map(|ms| w.now + ms)),
                    Value::OptText(class.model.as_deref()),
                    Value::Int(i64::from(class.needs_review)),
                ]
            })
            .collect();
        let m = MultiRow::new(w.dialect, ROW, 17, rows.len());
        let sql = m.sql(
            "INSERT INTO demands (requester, text, category, category_source, category_confidence, priority, budget, \
             lat, lon, max_distance_km, quantity, status, created_at, updated_at, expires_at, category_model, \
             needs_review)",
            returning_id(w.dialect),
        );
        let q = m.bind(sql, rows);
        let ids = inserted_ids(w, q, chunk.len()).await?;
        for (id, (n, class)) in ids.into_iter().zip(chunk) {
            let d = posted_demand(id, n, class, w.now);
            outbox::emit(w, "demand.created", "demand", d.id, &d).await?;
            out.push(d);
        }
    }
    Ok(out)
}
