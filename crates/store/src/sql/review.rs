//! The review queue's writes: an operator sets a demand's category, which is
//! also recorded as a labelled example for the next training run.

use sqlx::{AnyPool, Row};

use super::{WriteTx, demands, outbox};
use crate::error::StoreError;
use crate::model::Label;

pub(crate) async fn set_category(
    w: &mut WriteTx,
    id: i64,
    category: &str,
) -> Result<wantloop_core::Demand, StoreError> {
    let d = demands::lock(w, id).await?;
    sqlx::query(
        "UPDATE demands SET category = $1, category_source = 'operator', category_confidence = 1.0, \
         needs_review = 0, updated_at = $2 WHERE id = $3",
    )
    .bind(category)
    .bind(w.now)
    .bind(id)
    .execute(&mut *w.tx)
    .await?;
    sqlx::query("INSERT INTO labels (text, label, source, demand_id, created_at) VALUES ($1, $2, 'operator', $3, $4)")
        .bind(&d.text)
        .bind(category)
        .bind(id)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await?;
    let reviewed = demands::lock(w, id).await?;
    outbox::emit(w, "demand.reviewed", "demand", id, &reviewed).await?;
    Ok(reviewed)
}

pub(crate) async fn labels_after(pool: &AnyPool, after: i64, limit: u32) -> Result<Vec<Label>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, text, label, source, demand_id, created_at FROM labels WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Label {
                id: r.try_get("id")?,
                text: r.try_get("text")?,
                label: r.try_get("label")?,
                source: r.try_get("source")?,
                demand_id: r.try_get("demand_id")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}
