//! Admission: what every request passes before a handler runs. Oversized
//! URLs and headers, clients over their rate, requests beyond the in-flight
//! limit and requests over their time are answered here, as problem+json with
//! `Retry-After` where waiting helps, so no client can starve the others.
//!
//! One middleware rather than tower's `RateLimit`/`LoadShed`/`Timeout` layers:
//! those fail with errors that need a separate `HandleError` step each and say
//! nothing about when to retry; here each refusal is one `ApiError` variant of
//! the one status table. The per-client buckets are `governor`'s.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use crate::problem::ApiError;

/// The server's limits, all configurable (`wantloop serve --help`).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Longest a request may run before it is answered 503 (long jobs answer
    /// 202 with a job to poll instead, see `jobs.rs`).
    pub request_timeout: Duration,
    /// Requests handled at once; more are answered 503 at once (load shedding).
    pub max_in_flight: usize,
    /// Sustained requests per second per client (0: no rate limit).
    pub rate_per_second: u32,
    /// Requests a client may send in a burst above its rate.
    pub rate_burst: u32,
    /// Take the client's address from the last `X-Forwarded-For` hop (behind a
    /// proxy such as nginx) instead of the TCP peer.
    pub trust_forwarded_for: bool,
    /// Longest a client may take to send its body, on every route (a stalled
    /// upload must not hold an in-flight slot); answered 408.
    pub body_timeout: Duration,
    /// Longest request target (path and query) in bytes.
    pub max_uri_bytes: usize,
    /// Largest total of header names and values in bytes.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_in_flight: 512,
            rate_per_second: 200,
            rate_burst: 400,
            trust_forwarded_for: false,
            body_timeout: Duration::from_secs(10),
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 32 * 1024,
        }
    }
}

/// Paths that answer probes: never rate-limited or shed, so an orchestrator
/// can tell a busy node from a dead one.
const PROBES: [&str; 2] = ["/healthz", "/readyz"];

/// Paths whose handlers bound their own time (they hand long work to a job).
const SELF_TIMED: [&str; 2] = ["/v1/allocate", "/v1/models/retrain"];

/// Distinct clients remembered before idle buckets are dropped.
const MAX_TRACKED_CLIENTS: usize = 10_000;

pub struct Admission {
    limits: Limits,
    in_flight: Arc<Semaphore>,
    rate: Option<DefaultKeyedRateLimiter<IpAddr>>,
    last_shrink: AtomicU64,
}

impl Admission {
    pub fn new(limits: Limits) -> Self {
        let rate = NonZeroU32::new(limits.rate_per_second).map(|per_second| {
            let burst = NonZeroU32::new(limits.rate_burst).unwrap_or(per_second).max(per_second);
            RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst))
        });
        Self {
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            rate,
            limits,
            last_shrink: AtomicU64::new(0),
        }
    }

    fn client(&self, req: &Request) -> IpAddr {
        if self.limits.trust_forwarded_for
            && let Some(ip) = req
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
                .next_back()
        {
            return ip;
        }
        req.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
    }

    /// Checks the client's bucket; forgets idle buckets (at most once a
    /// second) when many clients are tracked, so memory stays bounded.
    fn over_rate(&self, req: &Request) -> Option<ApiError> {
        let rate = self.rate.as_ref()?;
        let clock = DefaultClock::default();
        if rate.len() > MAX_TRACKED_CLIENTS {
            let now_s = (wantloop_core::time::now_ms() / 1000) as u64;
            if self.last_shrink.swap(now_s, Ordering::Relaxed) != now_s {
                rate.retain_recent();
            }
        }
        let refused = rate.check_key(&self.client(req)).err()?;
        let wait = refused.wait_time_from(clock.now());
        Some(ApiError::RateLimited { retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64 })
    }

    fn oversized(&self, req: &Request) -> Option<ApiError> {
        let uri = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
        if uri > self.limits.max_uri_bytes {
            return Some(ApiError::UriTooLong { limit: self.limits.max_uri_bytes });
        }
        let headers: usize = req.headers().iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
        (headers > self.limits.max_header_bytes)
            .then_some(ApiError::HeadersTooLarge { limit: self.limits.max_header_bytes })
    }
}

pub async fn admit(State(a): State<Arc<Admission>>, req: Request, next: Next) -> Response {
    if let Some(e) = a.oversized(&req) {
        return e.into_response();
    }
    let path = req.uri().path();
    if PROBES.contains(&path) {
        return next.run(req).await;
    }
    if let Some(e) = a.over_rate(&req) {
        return e.into_response();
    }
    let Ok(_permit) = a.in_flight.clone().try_acquire_owned() else {
        return ApiError::Overloaded.into_response();
    };
    if SELF_TIMED.contains(&path) {
        return next.run(req).await;
    }
    match tokio::time::timeout(a.limits.request_timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::TimedOut { seconds: a.limits.request_timeout.as_secs_f64() }.into_response(),
    }
}
