//! Counts by state for summaries and dashboards.

use std::collections::BTreeMap;

use sqlx::{AnyPool, AssertSqlSafe};

use crate::error::StoreError;
use crate::model::Stats;

async fn by_status(pool: &AnyPool, table: &str, value: &str) -> Result<BTreeMap<String, i64>, StoreError> {
    // CAST keeps PostgreSQL's SUM (NUMERIC) in a type the Any driver decodes.
    let sql = format!("SELECT status, CAST({value} AS BIGINT) FROM {table} GROUP BY status");
    let rows: Vec<(String, i64)> = sqlx::query_as(AssertSqlSafe(sql)).fetch_all(pool).await?;
    Ok(rows.into_iter().collect())
}

pub(crate) async fn collect(pool: &AnyPool) -> Result<Stats, StoreError> {
    let (relisted,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM offers WHERE origin_offer_id IS NOT NULL").fetch_one(pool).await?;
    let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events").fetch_one(pool).await?;
    Ok(Stats {
        demands: by_status(pool, "demands", "COUNT(*)").await?,
        offers: by_status(pool, "offers", "COUNT(*)").await?,
        matches: by_status(pool, "matches", "COUNT(*)").await?,
        match_units: by_status(pool, "matches", "SUM(units)").await?,
        relisted_offers: relisted,
        events,
    })
}
