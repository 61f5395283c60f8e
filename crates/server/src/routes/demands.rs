//! `/v1/demands`: intake, reads, cancellation, matching, candidates.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wantloop_core::demand::DemandInput;
use wantloop_core::{Demand, DemandStatus, values::Category};
use wantloop_store::{DemandFilter, Outcome, Proposal};

use crate::auth::{Caller, privacy};
use crate::extract::{ApiQuery, IdPath, Idempotency, JsonBody, OptionalJsonBody};
use crate::paging::{Paged, paged, parse_opt, parse_page};
use crate::problem::{ApiError, Problem};
use crate::reply::Reply;
use crate::{AppState, jobs, match_queue};
use wantloop_engine::ScoredOffer;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DemandQuery {
    /// open, matched, fulfilled, cancelled or expired.
    status: Option<String>,
    category: Option<String>,
    requester: Option<String>,
    /// 1–1000, default 50.
    limit: Option<String>,
    cursor: Option<String>,
}

/// Post a demand. Without a category it is classified from its text.
#[utoipa::path(post, path = "/v1/demands", tag = "demands", security(("bearer" = ["admin", "service", "user"])), request_body = DemandInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses((status = 201, body = Demand, headers(("Link" = String, description = "With `auto_match`: `</v1/jobs/{id}>; rel=\"match-job\"`, the queued match job"))),
        (status = 422, body = Problem), (status = 400, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    caller: Caller,
    idem: Idempotency,
    body: JsonBody<DemandInput>,
) -> Result<Response, ApiError> {
    let d = body.value.parse()?;
    caller.require(d.requester.as_str())?;
    let key = idem.for_request(&body.raw, StatusCode::CREATED);
    let out = s.engine.create_demand(&d, key.as_ref()).await?;
    // A new demand asked to be matched: queue it; `Link` names the job (a
    // replayed request queued its job the first time).
    let queued = match &out {
        Outcome::Done(demand) if body.value.auto_match == Some(true) => {
            Some(match_queue::queue(&s.engine, demand.id, None).await?.0)
        }
        _ => None,
    };
    let mut resp = Reply::created("/v1/demands", out, |d| d.id).into_response();
    if let Some(job) = queued
        && let Ok(link) = HeaderValue::from_str(&format!("</v1/jobs/{}>; rel=\"match-job\"", job.id))
    {
        resp.headers_mut().insert(header::LINK, link);
    }
    Ok(resp)
}

#[utoipa::path(get, path = "/v1/demands", tag = "demands", security(("bearer" = ["admin", "service", "provider", "user"])), params(DemandQuery),
    responses((status = 200, body = Paged<Demand>), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<DemandQuery>,
) -> Result<Json<Paged<Demand>>, ApiError> {
    let page = parse_page(q.limit.as_deref(), q.cursor.as_deref())?;
    let filter = DemandFilter {
        status: parse_opt(q.status.as_deref(), |v| DemandStatus::parse("status", v))?,
        category: parse_opt(q.category.as_deref(), |v| Category::parse("category", v))?.map(|c| c.as_str().to_string()),
        requester: q.requester.filter(|r| !r.is_empty()),
        needs_review: None,
    };
    let items = s.engine.reads().list_demands(&filter, page).await?;
    let items = items.into_iter().map(|d| privacy::demand(&caller, d)).collect();
    Ok(Json(paged(items, page, |d| d.id)))
}

#[utoipa::path(get, path = "/v1/demands/{id}", tag = "demands", security(("bearer" = ["admin", "service", "provider", "user"])), params(("id" = i64, Path)),
    responses((status = 200, body = Demand), (status = 404, body = Problem)))]
pub async fn get(State(s): State<AppState>, caller: Caller, IdPath(id): IdPath) -> Result<Json<Demand>, ApiError> {
    Ok(Json(privacy::demand(&caller, s.engine.store().get_demand(id).await?)))
}

/// 404 for no such demand, 403 unless the caller acts for its requester.
async fn own_demand(s: &AppState, caller: &Caller, id: i64) -> Result<Demand, ApiError> {
    let d = s.engine.store().get_demand(id).await?;
    caller.require(&d.requester)?;
    Ok(d)
}

/// Cancel an open or matched demand; the units of its live matches return to their offers.
#[utoipa::path(post, path = "/v1/demands/{id}/cancel", tag = "demands", security(("bearer" = ["admin", "service", "user"])), params(("id" = i64, Path)),
    responses((status = 200, body = Demand), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn cancel(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    idem: Idempotency,
    body: OptionalJsonBody<serde_json::Value>,
) -> Result<Reply<Demand>, ApiError> {
    own_demand(&s, &caller, id).await?;
    let key = idem.for_request(&body.raw, StatusCode::OK);
    let out = s.engine.store().cancel_demand(id, key.as_ref()).await?;
    Ok(Reply::from_outcome(StatusCode::OK, out))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MatchQuery {
    /// `true`: queue the match as a job that any node may take, and answer
    /// 202 with the job (poll `Location`) instead of waiting for it.
    #[serde(rename = "async")]
    #[param(rename = "async")]
    run_async: Option<String>,
}

/// Propose the best feasible offers for this demand and reserve their units
/// (now, or as a queued job with `?async=true`).
#[utoipa::path(post, path = "/v1/demands/{id}/match", tag = "demands", security(("bearer" = ["admin", "service", "user"])), params(("id" = i64, Path), MatchQuery),
    responses((status = 200, body = Proposal), (status = 202, body = wantloop_store::Job),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn match_demand(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<MatchQuery>,
    idem: Idempotency,
    body: OptionalJsonBody<serde_json::Value>,
) -> Result<Response, ApiError> {
    let queued = match q.run_async.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::bad_field("async", "must be true or false")),
    };
    own_demand(&s, &caller, id).await?;
    if queued {
        let key = idem.for_request(&body.raw, StatusCode::ACCEPTED);
        let (job, replayed) = match_queue::queue(&s.engine, id, key.as_ref()).await?;
        return Ok(jobs::answer(job, replayed));
    }
    let key = idem.for_request(&body.raw, StatusCode::OK);
    let out = s.engine.match_demand(id, key.as_ref()).await?;
    Ok(Reply::from_outcome(StatusCode::OK, out).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LimitQuery {
    /// 1–1000, default 20.
    pub limit: Option<String>,
}

pub(crate) fn parse_limit(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(20),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| ApiError::bad_field("limit", "must be an integer from 1 to 1000")),
    }
}

/// Feasible offers for this demand, best first, with scores; reserves nothing.
#[utoipa::path(get, path = "/v1/demands/{id}/candidates", tag = "demands", security(("bearer" = ["admin", "service", "user"])), params(("id" = i64, Path), LimitQuery),
    responses((status = 200, body = Vec<ScoredOffer>), (status = 404, body = Problem)))]
pub async fn candidates(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> Result<Json<Vec<ScoredOffer>>, ApiError> {
    let limit = parse_limit(q.limit.as_deref())?;
    own_demand(&s, &caller, id).await?;
    let mut found = s.engine.candidates_for_demand(id, limit).await?;
    for c in &mut found {
        c.features = privacy::features(&caller, &c.offer.provider, c.features);
        c.offer = privacy::offer(&caller, c.offer.clone());
    }
    Ok(Json(found))
}
