//! `/v1/offers`: posting, reads, withdrawal, and the demands an offer can serve.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use wantloop_core::{Offer, OfferInput, OfferStatus, values::Category};
use wantloop_store::OfferFilter;

use super::demands::{LimitQuery, parse_limit};
use crate::AppState;
use crate::auth::{Caller, privacy};
use crate::extract::{ApiQuery, IdPath, Idempotency, JsonBody, OptionalJsonBody};
use crate::paging::{Paged, paged, parse_opt, parse_page};
use crate::problem::{ApiError, Problem};
use crate::reply::Reply;
use wantloop_engine::ScoredDemand;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OfferQuery {
    /// available, exhausted or withdrawn.
    status: Option<String>,
    category: Option<String>,
    provider: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

#[utoipa::path(post, path = "/v1/offers", tag = "offers", security(("bearer" = ["admin", "service", "provider"])), request_body = OfferInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses((status = 201, body = Offer), (status = 422, body = Problem), (status = 400, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    caller: Caller,
    idem: Idempotency,
    body: JsonBody<OfferInput>,
) -> Result<Reply<Offer>, ApiError> {
    let o = body.value.parse()?;
    caller.require(o.provider.as_str())?;
    let key = idem.for_request(&body.raw, StatusCode::CREATED);
    let out = s.engine.store().create_offer(&o, key.as_ref()).await?;
    Ok(Reply::created("/v1/offers", out, |o| o.id))
}

#[utoipa::path(get, path = "/v1/offers", tag = "offers", security(("bearer" = ["admin", "service", "provider", "user"])), params(OfferQuery),
    responses((status = 200, body = Paged<Offer>), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OfferQuery>,
) -> Result<Json<Paged<Offer>>, ApiError> {
    let page = parse_page(q.limit.as_deref(), q.cursor.as_deref())?;
    let filter = OfferFilter {
        status: parse_opt(q.status.as_deref(), |v| OfferStatus::parse("status", v))?,
        category: parse_opt(q.category.as_deref(), |v| Category::parse("category", v))?.map(|c| c.as_str().to_string()),
        provider: q.provider.filter(|p| !p.is_empty()),
    };
    let items = s.engine.reads().list_offers(&filter, page).await?;
    let items = items.into_iter().map(|o| privacy::offer(&caller, o)).collect();
    Ok(Json(paged(items, page, |o| o.id)))
}

#[utoipa::path(get, path = "/v1/offers/{id}", tag = "offers", security(("bearer" = ["admin", "service", "provider", "user"])), params(("id" = i64, Path)),
    responses((status = 200, body = Offer), (status = 404, body = Problem)))]
pub async fn get(State(s): State<AppState>, caller: Caller, IdPath(id): IdPath) -> Result<Json<Offer>, ApiError> {
    Ok(Json(privacy::offer(&caller, s.engine.store().get_offer(id).await?)))
}

/// 404 for no such offer, 403 unless the caller acts for its provider.
async fn own_offer(s: &AppState, caller: &Caller, id: i64) -> Result<Offer, ApiError> {
    let o = s.engine.store().get_offer(id).await?;
    caller.require(&o.provider)?;
    Ok(o)
}

/// Withdraw an offer: nothing new is reserved from it; its proposed matches expire.
#[utoipa::path(post, path = "/v1/offers/{id}/withdraw", tag = "offers", security(("bearer" = ["admin", "service", "provider", "user"])), params(("id" = i64, Path)),
    responses((status = 200, body = Offer), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn withdraw(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    idem: Idempotency,
    body: OptionalJsonBody<serde_json::Value>,
) -> Result<Reply<Offer>, ApiError> {
    own_offer(&s, &caller, id).await?;
    let key = idem.for_request(&body.raw, StatusCode::OK);
    let out = s.engine.store().withdraw_offer(id, key.as_ref()).await?;
    Ok(Reply::from_outcome(StatusCode::OK, out))
}

/// Open demands this offer could fulfil, best first.
#[utoipa::path(get, path = "/v1/offers/{id}/demands", tag = "offers", security(("bearer" = ["admin", "service", "provider"])), params(("id" = i64, Path), LimitQuery),
    responses((status = 200, body = Vec<ScoredDemand>), (status = 404, body = Problem)))]
pub async fn demands(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> Result<Json<Vec<ScoredDemand>>, ApiError> {
    let limit = parse_limit(q.limit.as_deref())?;
    own_offer(&s, &caller, id).await?;
    let mut found = s.engine.demands_for_offer(id, limit).await?;
    for c in &mut found {
        c.features = privacy::features(&caller, &c.demand.requester, c.features);
        c.demand = privacy::demand(&caller, c.demand.clone());
    }
    Ok(Json(found))
}
