//! The review queue's writes: an operator sets a demand's category, which is
//! also recorded as a labelled example for the next training run.

use sqlx::{AnyPool, Row};

use super::{WriteTx, demands, outbox};
use crate::error::StoreError;
use crate::model::{Label, NewLabel};

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

/// Keeps training examples in the store (a model's base data), skipping any
/// already kept: the fingerprint of source, text and label is unique.
pub(crate) async fn add(w: &mut WriteTx, labels: &[NewLabel]) -> Result<u64, StoreError> {
    use sha2::{Digest, Sha256};
    let mut added = 0;
    for chunk in labels.chunks(200) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${}, ${}, ${})", 5 * i + 1, 5 * i + 2, 5 * i + 3, 5 * i + 4, 5 * i + 5))
            .collect();
        let sql = format!(
            "INSERT INTO labels (text, label, source, fingerprint, created_at) VALUES {} \
             ON CONFLICT (fingerprint) DO NOTHING",
            rows.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for l in chunk {
            let mut h = Sha256::new();
            for part in [&l.source, &l.text, &l.label] {
                h.update(part.as_bytes());
                h.update([0]);
            }
            let fingerprint: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            q = q.bind(l.text.clone()).bind(l.label.clone()).bind(l.source.clone()).bind(fingerprint).bind(w.now);
        }
        added += q.execute(&mut *w.tx).await?.rows_affected();
    }
    Ok(added)
}
