//! Counts by state for summaries and dashboards.

use std::collections::BTreeMap;

use sqlx::{AnyPool, AssertSqlSafe};

use crate::error::StoreError;
use crate::model::{MarketCounts, OfferInteractions, Stats};

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

/// Match events per kind and time bucket: `(kind, bucket index, count)` for
/// events at or after `since`, buckets of `bucket_ms`. Reads the outbox, so
/// it reaches back as far as event retention keeps events.
pub(crate) async fn match_timeline(
    pool: &AnyPool,
    since: i64,
    bucket_ms: i64,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT kind, CAST((created_at - $1) / $2 AS BIGINT) AS bucket, CAST(COUNT(*) AS BIGINT) FROM events \
         WHERE kind IN ('match.proposed', 'match.accepted', 'match.fulfilled', 'match.rejected', 'match.expired') \
         AND created_at >= $1 GROUP BY kind, bucket",
    )
    .bind(since)
    .bind(bucket_ms.max(1))
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

pub(crate) async fn market_counts(pool: &AnyPool, limit: u32) -> Result<MarketCounts, StoreError> {
    let provider_matches: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT o.provider, m.status, CAST(COUNT(*) AS BIGINT) FROM matches m JOIN offers o ON o.id = m.offer_id \
         GROUP BY o.provider, m.status ORDER BY o.provider, m.status LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let rows: Vec<(i64, i64, i64, f64)> = sqlx::query_as(
        "SELECT offer_id, CAST(COUNT(*) AS BIGINT) AS n, \
         CAST(SUM(CASE WHEN kind = 'rate' THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN kind = 'rate' THEN value ELSE 0 END) AS DOUBLE PRECISION) \
         FROM interactions GROUP BY offer_id ORDER BY n DESC, offer_id LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let offer_interactions = rows
        .into_iter()
        .map(|(offer_id, interactions, ratings, rating_sum)| OfferInteractions {
            offer_id,
            interactions,
            ratings,
            rating_sum,
        })
        .collect();
    Ok(MarketCounts { provider_matches, offer_interactions })
}
