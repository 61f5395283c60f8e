//! Operational endpoints: health, readiness, the outbox event feed, counts,
//! batch allocation and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use wantloop_core::Event;
use wantloop_match::Mode;
use wantloop_store::{Job, Stats};

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{ApiQuery, IdPath, Idempotency, OptionalJsonBody};
use crate::jobs;
use crate::paging::{Paged, parse_page};
use crate::problem::{ApiError, Problem};
use wantloop_engine::AllocationReport;

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    pub status: String,
    pub backend: String,
    pub version: String,
    /// The pretrained models this node serves with (`text:all-minilm-l6-v2`,
    /// `image:efficientnet-lite0`); `serve --require-models` keeps a node
    /// without one from starting.
    pub models: Vec<String>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system", security(()), responses((status = 200, body = Health)))]
pub async fn healthz(State(s): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        backend: format!("{:?}", s.engine.store().backend()).to_lowercase(),
        version: env!("CARGO_PKG_VERSION").into(),
        models: s.engine.pretrained_models(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "system", security(()),
    responses((status = 200, body = Health), (status = 503, body = Problem)))]
pub async fn readyz(State(s): State<AppState>) -> Result<Json<Health>, ApiError> {
    let backend = format!("{:?}", s.engine.store().backend()).to_lowercase();
    let version = env!("CARGO_PKG_VERSION").to_string();
    match s.engine.store().ping().await {
        Ok(()) => Ok(Json(Health { status: "ready".into(), backend, version, models: s.engine.pretrained_models() })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::NotReady(format!("the {backend} database does not answer")))
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EventQuery {
    /// Return events after this cursor (an event id); default: from the start.
    after: Option<String>,
    /// 1–1000, default 50.
    limit: Option<String>,
}

/// The outbox: every state change, in commit order, by cursor.
#[utoipa::path(get, path = "/v1/events", tag = "system", security(("bearer" = ["admin"])), params(EventQuery),
    responses((status = 200, body = Paged<Event>), (status = 400, body = Problem)))]
pub async fn events(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> Result<Json<Paged<Event>>, ApiError> {
    let page = parse_page(q.limit.as_deref(), q.after.as_deref())
        .map_err(|_| ApiError::bad_field("after", "must be an event id (a non-negative integer)"))?;
    let items = s.engine.store().events_after(page.after, page.limit).await?;
    let next_cursor = items.last().map(|e| e.id.to_string()).or_else(|| Some(page.after.to_string()));
    Ok(Json(Paged { items, next_cursor }))
}

/// Store counts plus the search index's state and hot-query cache counters.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ServerStats {
    #[serde(flatten)]
    pub store: Stats,
    pub search: Option<SearchStats>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchStats {
    pub documents: u64,
    /// The last outbox event the index has applied.
    pub cursor: i64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    /// Outbox events this node could not index since it started (each logged).
    pub undecodable_events: u64,
}

/// The cluster as this node sees it: live nodes (heartbeats), each
/// leader-only job's lease holder and fencing token, its last and next run.
#[utoipa::path(get, path = "/v1/cluster", tag = "system", security(("bearer" = ["admin"])), responses((status = 200, body = wantloop_engine::cluster::ClusterStatus)))]
pub async fn cluster(State(s): State<AppState>) -> Result<Json<wantloop_engine::cluster::ClusterStatus>, ApiError> {
    Ok(Json(s.engine.cluster().await?))
}

/// Counts of demands, offers and matches by state, and the search index's counters.
#[utoipa::path(get, path = "/v1/stats", tag = "system", security(("bearer" = ["admin", "service", "provider", "user"])), responses((status = 200, body = ServerStats)))]
pub async fn stats(State(s): State<AppState>) -> Result<Json<ServerStats>, ApiError> {
    let i = s.engine.index();
    let cache = s.engine.seams().cache.stats();
    let search = Some(SearchStats {
        documents: i.num_docs(),
        cursor: i.cursor(),
        cache_hits: cache.hits,
        cache_misses: cache.misses,
        undecodable_events: i.undecodable_events(),
    });
    Ok(Json(ServerStats { store: s.engine.store().stats().await?, search }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TimelineQuery {
    /// How far back (1–2160 hours, default 168: a week).
    hours: Option<String>,
    /// Into how many buckets (1–200, default 42).
    buckets: Option<String>,
}

/// Matches proposed, accepted, fulfilled, rejected and expired per time bucket.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MatchTimeline {
    /// Start of the first bucket (ms since the epoch).
    pub since: i64,
    pub bucket_ms: i64,
    /// Per match state, one count per bucket, oldest first.
    pub series: std::collections::BTreeMap<String, Vec<i64>>,
}

fn bounded(field: &str, raw: Option<&str>, default: i64, max: i64) -> Result<i64, ApiError> {
    match raw.filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| ApiError::bad_field(field, format!("must be an integer from 1 to {max}"))),
    }
}

/// Match events over time, from the outbox (as far back as event retention keeps them).
#[utoipa::path(get, path = "/v1/stats/matches", tag = "system", security(("bearer" = ["admin", "service", "provider", "user"])),
    params(TimelineQuery), responses((status = 200, body = MatchTimeline), (status = 400, body = Problem)))]
pub async fn match_timeline(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<TimelineQuery>,
) -> Result<Json<MatchTimeline>, ApiError> {
    let hours = bounded("hours", q.hours.as_deref(), 168, 2160)?;
    let buckets = bounded("buckets", q.buckets.as_deref(), 42, 200)?;
    let span = hours * 3_600_000;
    let bucket_ms = (span + buckets - 1) / buckets;
    let since = wantloop_core::time::now_ms() - bucket_ms * buckets;
    let mut series: std::collections::BTreeMap<String, Vec<i64>> =
        ["proposed", "accepted", "fulfilled", "rejected", "expired"]
            .into_iter()
            .map(|k| (k.to_string(), vec![0; buckets as usize]))
            .collect();
    for (kind, bucket, n) in s.engine.store().match_timeline(since, bucket_ms).await? {
        let state = kind.trim_start_matches("match.");
        if let (Some(counts), Ok(i)) = (series.get_mut(state), usize::try_from(bucket))
            && let Some(slot) = counts.get_mut(i)
        {
            *slot += n;
        }
    }
    Ok(Json(MatchTimeline { since, bucket_ms, series }))
}

/// Prometheus metrics (text format 0.0.4): requests by route and status with
/// latency histograms, requests in flight, matches / demands / offers by
/// state, the review queue, outbox lag per consumer, database pool use, cache
/// hits and misses, active model versions, search, allocation and training
/// durations.
#[utoipa::path(get, path = "/metrics", tag = "system", security(("bearer" = ["admin", "service"])),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(s): State<AppState>) -> Result<axum::response::Response, ApiError> {
    crate::observe::render(&s).await
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocateInput {
    /// `optimal` (default: the global optimum) or `greedy`.
    pub mode: Option<String>,
    /// Report what would be allocated without writing anything.
    #[serde(default)]
    pub dry_run: bool,
}

pub fn parse_mode(raw: Option<&str>) -> Result<Mode, ApiError> {
    match raw.unwrap_or("optimal") {
        "optimal" => Ok(Mode::Optimal),
        "greedy" => Ok(Mode::Greedy),
        _ => Err(ApiError::bad_field("mode", "must be optimal or greedy")),
    }
}

/// Allocate supply over all open demands at once and propose the result. The
/// work runs as a job: the answer is its report, or `202` with the job's
/// `Location` when it takes longer than the request timeout (at once with
/// `Prefer: respond-async`).
#[utoipa::path(post, path = "/v1/allocate", tag = "system", security(("bearer" = ["admin"])), request_body(content = Option<AllocateInput>),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key: a repeat answers for the same job"),
        ("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 with the job at once"),
    ),
    responses((status = 200, body = AllocationReport), (status = 202, body = Job, description = "Still running: poll `Location`"),
        (status = 400, body = Problem)))]
pub async fn allocate(
    State(s): State<AppState>,
    headers: HeaderMap,
    idem: Idempotency,
    body: OptionalJsonBody<AllocateInput>,
) -> Result<Response, ApiError> {
    let input = body.value.unwrap_or_default();
    let mode = parse_mode(input.mode.as_deref())?;
    let key = idem.for_request(&body.raw, StatusCode::ACCEPTED);
    let engine = s.engine.clone();
    let work = async move { engine.allocate(mode, input.dry_run).await.map_err(ApiError::from) };
    jobs::run(&s, "allocate", key, jobs::prefers_async(&headers), work).await
}

/// A job started by `POST /v1/allocate` or `POST /v1/models/retrain`.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "system", security(("bearer" = ["admin", "service", "provider", "user"])), params(("id" = i64, Path)),
    responses((status = 200, body = Job), (status = 404, body = Problem)))]
pub async fn job(State(s): State<AppState>, caller: Caller, IdPath(id): IdPath) -> Result<Json<Job>, ApiError> {
    let job = s.engine.store().get_job(id).await?;
    // User and provider keys read the jobs they started (an async match).
    if !caller.acts_for_all() && (caller.key.is_none() || job.actor_key != caller.key) {
        return Err(ApiError::Forbidden("this key did not start this job".into()));
    }
    Ok(Json(job))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "system", security(()), responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi(State(s): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::Value::clone(&s.openapi))
}
