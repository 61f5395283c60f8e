//! `/v1/matches`: reads and the lifecycle transitions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use wantloop_core::matching::RelistInput;
use wantloop_core::{Match, MatchStatus, MatchTransition};
use wantloop_store::MatchFilter;

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{ApiQuery, IdPath, Idempotency, OptionalJsonBody};
use crate::paging::{Paged, paged, parse_opt, parse_page};
use crate::problem::{ApiError, Problem};
use crate::reply::Reply;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MatchQuery {
    /// proposed, accepted, fulfilled, rejected or expired.
    status: Option<String>,
    demand_id: Option<String>,
    offer_id: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

fn parse_id(field: &str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.filter(|s| !s.is_empty())
        .map(|s| s.parse::<i64>().map_err(|_| ApiError::bad_field(field, "must be an integer")))
        .transpose()
}

#[utoipa::path(get, path = "/v1/matches", tag = "matches", security(("bearer" = ["admin", "service", "provider", "user"])), params(MatchQuery),
    responses((status = 200, body = Paged<Match>), (status = 400, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MatchQuery>,
) -> Result<Json<Paged<Match>>, ApiError> {
    let page = parse_page(q.limit.as_deref(), q.cursor.as_deref())?;
    let filter = MatchFilter {
        status: parse_opt(q.status.as_deref(), |v| MatchStatus::parse("status", v))?,
        demand_id: parse_id("demand_id", q.demand_id.as_deref())?,
        offer_id: parse_id("offer_id", q.offer_id.as_deref())?,
        // User and provider keys see the matches their party is in.
        party: caller.scope(),
    };
    let items = s.engine.reads().list_matches(&filter, page).await?;
    Ok(Json(paged(items, page, |m| m.id)))
}

#[utoipa::path(get, path = "/v1/matches/{id}", tag = "matches", security(("bearer" = ["admin", "service", "provider", "user"])), params(("id" = i64, Path)),
    responses((status = 200, body = Match), (status = 404, body = Problem)))]
pub async fn get(State(s): State<AppState>, caller: Caller, IdPath(id): IdPath) -> Result<Json<Match>, ApiError> {
    let (m, requester, provider) = sides(&s, id).await?;
    caller.in_match(&requester, &provider)?;
    Ok(Json(m))
}

/// A match with its requester and provider.
async fn sides(s: &AppState, id: i64) -> Result<(Match, String, String), ApiError> {
    let store = s.engine.store();
    let m = store.get_match(id).await?;
    let requester = store.get_demand(m.demand_id).await?.requester;
    let provider = store.get_offer(m.offer_id).await?.provider;
    Ok((m, requester, provider))
}

async fn transition(
    s: &AppState,
    caller: &Caller,
    id: i64,
    t: MatchTransition,
    relist: Option<&RelistInput>,
    idem: &Idempotency,
    raw: &[u8],
) -> Result<Reply<Match>, ApiError> {
    let relist = relist.map(RelistInput::parse).transpose()?;
    let (_, requester, provider) = sides(s, id).await?;
    caller.require_side(&requester, &provider)?;
    // Relisting makes the requester the provider of a new offer: only they
    // (or an operator) may ask for it.
    if relist.is_some() {
        caller.require(&requester)?;
    }
    let key = idem.for_request(raw, StatusCode::OK);
    let out = s.engine.store().transition_match(id, t, relist.as_ref(), key.as_ref()).await?;
    Ok(Reply::from_outcome(StatusCode::OK, out))
}

/// The requester accepts a proposed match.
#[utoipa::path(post, path = "/v1/matches/{id}/accept", tag = "matches", security(("bearer" = ["admin", "service", "user"])), params(("id" = i64, Path)),
    responses((status = 200, body = Match), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn accept(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    idem: Idempotency,
    body: OptionalJsonBody<serde_json::Value>,
) -> Result<Reply<Match>, ApiError> {
    transition(&s, &caller, id, MatchTransition::Accept, None, &idem, &body.raw).await
}

/// Reject a proposed or accepted match; its units return to the offer.
#[utoipa::path(post, path = "/v1/matches/{id}/reject", tag = "matches", security(("bearer" = ["admin", "service", "provider", "user"])), params(("id" = i64, Path)),
    responses((status = 200, body = Match), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn reject(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    idem: Idempotency,
    body: OptionalJsonBody<serde_json::Value>,
) -> Result<Reply<Match>, ApiError> {
    transition(&s, &caller, id, MatchTransition::Reject, None, &idem, &body.raw).await
}

/// Body of a fulfilment: optionally relist the item as a new offer.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfilInput {
    pub relist: Option<RelistInput>,
}

/// Mark an accepted match fulfilled; with `relist`, the item becomes a new offer of the requester.
#[utoipa::path(post, path = "/v1/matches/{id}/fulfil", tag = "matches", security(("bearer" = ["admin", "service", "provider", "user"])), params(("id" = i64, Path)),
    request_body(content = Option<FulfilInput>),
    responses((status = 200, body = Match), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn fulfil(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    idem: Idempotency,
    body: OptionalJsonBody<FulfilInput>,
) -> Result<Reply<Match>, ApiError> {
    let relist = body.value.as_ref().and_then(|b| b.relist.as_ref());
    transition(&s, &caller, id, MatchTransition::Fulfil, relist, &idem, &body.raw).await
}
