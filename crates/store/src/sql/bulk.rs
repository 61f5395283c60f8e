//! Bulk intake for `wantloop import`: many offers or demands in one
//! transaction, written by multi-row `INSERT … RETURNING` statements, each row's
//! outbox event in the same transaction. Many rows per statement instead of
//! one (as many as the dialect binds cheaply, see
//! `Dialect::rows_per_statement`) is what lets an import reach tens of
//! thousands of rows a second (the round trip, not the row, is the cost).

use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use wantloop_core::demand::NewDemand;
use wantloop_core::{Demand, NewOffer, Offer};

use super::rows::{DEMAND_COLS, OFFER_COLS, demand, offer};
use super::{WriteTx, outbox};
use crate::error::StoreError;
use crate::model::Classification;

/// `($b+1, …)` for row `i` of a statement, from a template whose `$k` name
/// the row's k-th parameter.
fn values(template: &str, params: usize, rows: usize) -> String {
    (0..rows)
        .map(|i| {
            let base = i * params;
            // Replace from the highest number down so `$1` does not eat `$10`.
            (1..=params).rev().fold(template.to_string(), |t, k| t.replace(&format!("${k}"), &format!("#{}", base + k)))
        })
        .collect::<Vec<_>>()
        .join(", ")
        .replace('#', "$")
}

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
    for chunk in offers.chunks(w.dialect.rows_per_statement(10)) {
        let sql = format!(
            "INSERT INTO offers (provider, text, category, price, lat, lon, capacity, status, condition, \
             created_at, updated_at) VALUES {} RETURNING {OFFER_COLS}",
            values(ROW, 10, chunk.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for o in chunk {
            q = q
                .bind(o.provider.as_str())
                .bind(o.text.as_str())
                .bind(o.category.as_str())
                .bind(o.price.minor())
                .bind(o.location.map_or(0.0, |l| l.lat))
                .bind(o.location.map_or(0.0, |l| l.lon))
                .bind(i64::from(o.location.is_some()))
                .bind(o.capacity.get())
                .bind(o.condition.clone())
                .bind(w.now);
        }
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
    for chunk in demands.chunks(w.dialect.rows_per_statement(17)) {
        let sql = format!(
            "INSERT INTO demands (requester, text, category, category_source, category_confidence, priority, budget, \
             lat, lon, max_distance_km, quantity, status, created_at, updated_at, expires_at, category_model, \
             needs_review) VALUES {} RETURNING {DEMAND_COLS}",
            values(ROW, 17, chunk.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (d, class) in chunk {
            q = q
                .bind(d.requester.as_str())
                .bind(d.text.as_str())
                .bind(&class.category)
                .bind(class.source.as_str())
                .bind(class.confidence)
                .bind(d.priority.as_str())
                .bind(d.budget.map(|b| b.minor()))
                .bind(d.location.map_or(0.0, |l| l.lat))
                .bind(d.location.map_or(0.0, |l| l.lon))
                .bind(i64::from(d.location.is_some()))
                .bind(d.max_distance_km.unwrap_or(0.0))
                .bind(i64::from(d.max_distance_km.is_some()))
                .bind(d.quantity.get())
                .bind(w.now)
                .bind(d.expires_in_ms.map(|ms| w.now + ms))
                .bind(class.model.clone())
                .bind(i64::from(class.needs_review));
        }
        let rows: Vec<AnyRow> = q.fetch_all(&mut *w.tx).await?;
        let created = rows.iter().map(demand).collect::<Result<Vec<_>, _>>()?;
        for d in by_id(created, |d| d.id) {
            outbox::emit(w, "demand.created", "demand", d.id, &d).await?;
            out.push(d);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_number_each_rows_parameters_after_the_previous_rows() {
        assert_eq!(super::values("($1, $2)", 2, 3), "($1, $2), ($3, $4), ($5, $6)");
        let ten = "($1, $10, CASE WHEN $2 = 1 THEN $1 END)";
        assert_eq!(
            super::values(ten, 10, 2),
            "($1, $10, CASE WHEN $2 = 1 THEN $1 END), ($11, $20, CASE WHEN $12 = 1 THEN $11 END)"
        );
    }
}
