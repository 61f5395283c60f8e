//! Bulk intake for `wantloop import`: many offers or demands in one
//! transaction, written by multi-row `INSERT … RETURNING` statements, each row's
//! outbox event in the same transaction. Many rows per statement instead of
//! one (as many as the dialect binds cheaply, see
//! `multi_row.rs`) is what lets an import reach tens of
//! thousands of rows a second (the round trip, not the row, is the cost).

use sqlx::any::AnyRow;
use wantloop_core::demand::NewDemand;
use wantloop_core::{Demand, NewOffer, Offer};

use super::multi_row::{MultiRow, Value};
use super::rows::{DEMAND_COLS, OFFER_COLS, demand, offer};
use super::{WriteTx, outbox};
use crate::error::StoreError;
use crate::model::Classification;

/// Rows come back from a multi-row `RETURNING` in no promised order, but ids
/// are handed out in `VALUES` order: sorting by id restores the input's order.
fn by_id<T>(mut rows: Vec<T>, id: impl Fn(&T) -> i64) -> Vec<T> {
    rows.sort_by_key(|r| id(r));
    rows
}

/// Posted offers only: a relisted offer (`offers::insert` with an origin)
/// carries its origin columns and another event kind, and is always one row.
pub(crate) async fn insert_offers(w: &mut WriteTx, offers: &[NewOffer]) -> Result<Vec<Offer>, StoreError> {
    // Optional floats as value plus presence flag: see `offers::insert`.
    const ROW: &str = "($1, $2, $3, $4, CASE WHEN $7 = 1 THEN $5 END, CASE WHEN $7 = 1 THEN $6 END, $8, 'available', \
                       $9, $10, $10)";
    let mut out = Vec::with_capacity(offers.len());
    for chunk in offers.chunks(MultiRow::rows_per_statement(w.dialect, MultiRow::uses(ROW, 10))) {
        let m = MultiRow::new(w.dialect, ROW, 10, chunk.len());
        let sql = format!(
            "INSERT INTO offers (provider, text, category, price, lat, lon, capacity, status, condition, \
             created_at, updated_at) VALUES {} RETURNING {OFFER_COLS}",
            m.sql_values
        );
        let q = m.bind(
            sql,
            chunk.iter().map(|o| {
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
            }),
        );
        let rows: Vec<AnyRow> = q.fetch_all(&mut *w.tx).await?;
        let created = rows.iter().map(offer).collect::<Result<Vec<_>, _>>()?;
        for o in by_id(created, |o| o.id) {
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
        let m = MultiRow::new(w.dialect, ROW, 17, chunk.len());
        let sql = format!(
            "INSERT INTO demands (requester, text, category, category_source, category_confidence, priority, budget, \
             lat, lon, max_distance_km, quantity, status, created_at, updated_at, expires_at, category_model, \
             needs_review) VALUES {} RETURNING {DEMAND_COLS}",
            m.sql_values
        );
        let q = m.bind(
            sql,
            chunk.iter().map(|(d, class)| {
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
            }),
        );
        let rows: Vec<AnyRow> = q.fetch_all(&mut *w.tx).await?;
        let created = rows.iter().map(demand).collect::<Result<Vec<_>, _>>()?;
        for d in by_id(created, |d| d.id) {
            outbox::emit(w, "demand.created", "demand", d.id, &d).await?;
            out.push(d);
        }
    }
    Ok(out)
}
