//! Classification without storing (`/v1/classify`) and the review queue of
//! demands the classifier was unsure about.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use wantloop_core::values::{Category, Text};
use wantloop_core::{Demand, DemandStatus};
use wantloop_store::DemandFilter;

use crate::AppState;
use crate::extract::{ApiQuery, IdPath, Idempotency, JsonBody};
use crate::paging::{Paged, paged, parse_opt, parse_page};
use crate::problem::{ApiError, Problem};
use crate::reply::Reply;
use wantloop_engine::ClassifyResult;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifyInput {
    pub text: String,
}

/// Classify a text as the intake would, without storing anything.
#[utoipa::path(post, path = "/v1/classify", tag = "classification", security(("bearer" = ["admin", "service", "provider", "user"])), request_body = ClassifyInput,
    responses((status = 200, body = ClassifyResult), (status = 422, body = Problem)))]
pub async fn classify(
    State(s): State<AppState>,
    body: JsonBody<ClassifyInput>,
) -> Result<Json<ClassifyResult>, ApiError> {
    let text = Text::parse("text", &body.value.text)?;
    Ok(Json(s.engine.classify_text(text.as_str())))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReviewQuery {
    /// Only demands in this state (default: any).
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// Demands classified with low confidence, waiting for an operator.
#[utoipa::path(get, path = "/v1/review/demands", tag = "classification", security(("bearer" = ["admin"])), params(ReviewQuery),
    responses((status = 200, body = Paged<Demand>), (status = 400, body = Problem)))]
pub async fn queue(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> Result<Json<Paged<Demand>>, ApiError> {
    let page = parse_page(q.limit.as_deref(), q.cursor.as_deref())?;
    let filter = DemandFilter {
        status: parse_opt(q.status.as_deref(), |v| DemandStatus::parse("status", v))?,
        needs_review: Some(true),
        ..Default::default()
    };
    let items = s.engine.reads().list_demands(&filter, page).await?;
    Ok(Json(paged(items, page, |d| d.id)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// The right category; recorded as a labelled example for the next training.
    pub category: String,
}

/// An operator sets a demand's category.
#[utoipa::path(post, path = "/v1/review/demands/{id}", tag = "classification", security(("bearer" = ["admin"])), params(("id" = i64, Path)),
    request_body = ReviewInput,
    responses((status = 200, body = Demand), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn review(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    idem: Idempotency,
    body: JsonBody<ReviewInput>,
) -> Result<Reply<Demand>, ApiError> {
    let category = Category::parse("category", &body.value.category)?;
    let key = idem.for_request(&body.raw, StatusCode::OK);
    let out = s.engine.store().review_demand(id, category.as_str(), key.as_ref()).await?;
    Ok(Reply::from_outcome(StatusCode::OK, out))
}
