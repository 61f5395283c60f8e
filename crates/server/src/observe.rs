//! What an operator watches: a request id on every request, and Prometheus
//! metrics. Request counts and latency per route and status, and requests in
//! flight, are recorded as requests pass; the rest (matches by state, the
//! review queue, outbox lag per consumer, the database pool, the cache, the
//! active models) is read from the store and the engine when `/metrics` is
//! scraped, so it is never stale and costs nothing between scrapes. Search,
//! allocation and training durations are recorded by the engine.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tower_http::request_id::{MakeRequestId, RequestId};

use crate::AppState;
use crate::problem::ApiError;

/// The process's Prometheus recorder: one per process (the `metrics` facade
/// has one global recorder), shared by every app a test process boots.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        // Latency buckets from 1 ms to 30 s (the request timeout).
        let buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder installed first (a test harness) keeps its own.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// The route a request matched, passed from inside the router (where it is
/// known) to the metrics layer outside it (where admission answers too).
#[derive(Clone)]
struct RouteLabel(String);

/// Inside the router: labels the response with the matched route template.
pub async fn label_route(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let mut response = next.run(req).await;
    if let Some(route) = route {
        response.extensions_mut().insert(RouteLabel(route));
    }
    response
}

/// Outside the router: requests in flight, and each request's count and
/// duration by method, route template (never the raw path: ids would make
/// a series per demand) and status.
pub async fn record(req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    gauge!("wantloop_http_requests_in_flight").increment(1.0);
    let response = next.run(req).await;
    gauge!("wantloop_http_requests_in_flight").decrement(1.0);
    let route = response.extensions().get::<RouteLabel>().map_or_else(|| "unmatched".to_string(), |r| r.0.clone());
    let labels = [("method", method), ("route", route), ("status", response.status().as_u16().to_string())];
    counter!("wantloop_http_requests_total", &labels).increment(1);
    histogram!("wantloop_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

/// Request ids for requests that came without one (or with one too long or
/// not printable to log): a per-process random prefix and a counter.
#[derive(Clone)]
pub struct MakeId {
    prefix: u32,
    next: std::sync::Arc<AtomicU64>,
}

impl Default for MakeId {
    fn default() -> Self {
        // Process id and start time: ids from nodes of one cluster differ.
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
        Self { prefix: std::process::id().rotate_left(16) ^ nanos, next: Default::default() }
    }
}

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:08x}-{n:x}", self.prefix)).ok().map(RequestId::new)
    }
}

/// Drops a client's `x-request-id` that is over 128 bytes or not visible
/// ASCII, so that one is made instead: ids end up in every log line.
pub async fn sanitise_request_id(mut req: Request, next: Next) -> Response {
    let bad = req
        .headers()
        .get("x-request-id")
        .is_some_and(|v| v.len() > 128 || v.is_empty() || !v.as_bytes().iter().all(|b| b.is_ascii_graphic()));
    if bad {
        req.headers_mut().remove("x-request-id");
    }
    next.run(req).await
}

/// `GET /metrics`: reads the gauges, then renders every series.
pub async fn render(s: &AppState) -> Result<Response, ApiError> {
    let engine = &s.engine;
    let store = engine.store();
    let stats = store.stats().await?;
    for (state, n) in &stats.matches {
        gauge!("wantloop_matches", "state" => state.clone()).set(*n as f64);
    }
    for (status, n) in &stats.demands {
        gauge!("wantloop_demands", "status" => status.clone()).set(*n as f64);
    }
    for (status, n) in &stats.offers {
        gauge!("wantloop_offers", "status" => status.clone()).set(*n as f64);
    }
    let g = store.gauges().await?;
    gauge!("wantloop_review_queue_length").set(g.review_queue as f64);
    gauge!("wantloop_db_pool_connections", "state" => "idle").set(f64::from(g.pool_idle));
    gauge!("wantloop_db_pool_connections", "state" => "in_use").set(f64::from(g.pool_size.saturating_sub(g.pool_idle)));
    let last_event = store.last_event_id().await?;
    gauge!("wantloop_outbox_last_event").set(last_event as f64);
    for (consumer, position) in &g.consumers {
        gauge!("wantloop_outbox_lag_events", "consumer" => consumer.clone()).set((last_event - position).max(0) as f64);
    }
    gauge!("wantloop_outbox_lag_events", "consumer" => "this-node-index")
        .set((last_event - engine.index().cursor()).max(0) as f64);
    let cache = engine.seams().cache.stats();
    counter!("wantloop_cache_hits_total").absolute(cache.hits);
    counter!("wantloop_cache_misses_total").absolute(cache.misses);
    for kind in [wantloop_engine::models::CLASSIFIER, wantloop_engine::models::RECOMMENDER] {
        let version = store.active_model(kind).await?.map_or(0, |m| m.version);
        gauge!("wantloop_active_model_version", "kind" => kind).set(version as f64);
    }
    let body = prometheus().render();
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"))], body).into_response())
}
