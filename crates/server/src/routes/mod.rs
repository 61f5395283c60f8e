//! The HTTP surface: routes, the OpenAPI document that describes them, and the
//! layers every request passes (tracing span, panic guard, body limit).

mod demands;
mod matches;
mod models;
mod offers;
mod recommend;
mod review;
mod search;
mod system;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

pub use system::parse_mode;

use crate::problem::ApiError;
use crate::{AppState, BODY_LIMIT_BYTES};

#[derive(OpenApi)]
#[openapi(
    info(title = "wantloop", description = "Demand-satisfaction engine: demands, offers, matches, allocation."),
    paths(
        demands::create, demands::list, demands::get, demands::cancel, demands::match_demand, demands::candidates,
        offers::create, offers::list, offers::get, offers::withdraw, offers::demands,
        matches::list, matches::get, matches::accept, matches::reject, matches::fulfil,
        search::search,
        recommend::record, recommend::for_user, recommend::similar,
        review::classify, review::queue, review::review, models::list, models::activate, models::retrain,
        system::healthz, system::readyz, system::events, system::stats, system::allocate, system::openapi,
    ),
    tags((name = "demands"), (name = "offers"), (name = "matches"), (name = "classification"), (name = "recommendations"), (name = "search"), (name = "models"), (name = "system"))
)]
pub struct ApiDoc;

/// Every route as (method, path): the router and the OpenAPI test both read it.
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/demands"),
    ("get", "/v1/demands"),
    ("get", "/v1/demands/{id}"),
    ("post", "/v1/demands/{id}/cancel"),
    ("post", "/v1/demands/{id}/match"),
    ("get", "/v1/demands/{id}/candidates"),
    ("post", "/v1/offers"),
    ("get", "/v1/offers"),
    ("get", "/v1/offers/{id}"),
    ("post", "/v1/offers/{id}/withdraw"),
    ("get", "/v1/offers/{id}/demands"),
    ("get", "/v1/matches"),
    ("get", "/v1/matches/{id}"),
    ("post", "/v1/matches/{id}/accept"),
    ("post", "/v1/matches/{id}/reject"),
    ("post", "/v1/matches/{id}/fulfil"),
    ("get", "/v1/search"),
    ("post", "/v1/interactions"),
    ("get", "/v1/users/{id}/recommendations"),
    ("get", "/v1/offers/{id}/similar"),
    ("post", "/v1/classify"),
    ("get", "/v1/review/demands"),
    ("post", "/v1/review/demands/{id}"),
    ("get", "/v1/models"),
    ("post", "/v1/models/{id}/activate"),
    ("post", "/v1/models/retrain"),
    ("get", "/v1/events"),
    ("get", "/v1/stats"),
    ("post", "/v1/allocate"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/openapi.json"),
];

async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute(uri.path().to_string())
}

async fn wrong_method() -> ApiError {
    ApiError::MethodNotAllowed
}

fn panic_to_problem(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    ApiError::Internal.into_response()
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/demands", post(demands::create).get(demands::list))
        .route("/v1/demands/{id}", get(demands::get))
        .route("/v1/demands/{id}/cancel", post(demands::cancel))
        .route("/v1/demands/{id}/match", post(demands::match_demand))
        .route("/v1/demands/{id}/candidates", get(demands::candidates))
        .route("/v1/offers", post(offers::create).get(offers::list))
        .route("/v1/offers/{id}", get(offers::get))
        .route("/v1/offers/{id}/withdraw", post(offers::withdraw))
        .route("/v1/offers/{id}/demands", get(offers::demands))
        .route("/v1/matches", get(matches::list))
        .route("/v1/matches/{id}", get(matches::get))
        .route("/v1/matches/{id}/accept", post(matches::accept))
        .route("/v1/matches/{id}/reject", post(matches::reject))
        .route("/v1/matches/{id}/fulfil", post(matches::fulfil))
        .route("/v1/search", get(search::search))
        .route("/v1/interactions", post(recommend::record))
        .route("/v1/users/{id}/recommendations", get(recommend::for_user))
        .route("/v1/offers/{id}/similar", get(recommend::similar))
        .route("/v1/classify", post(review::classify))
        .route("/v1/review/demands", get(review::queue))
        .route("/v1/review/demands/{id}", post(review::review))
        .route("/v1/models", get(models::list))
        .route("/v1/models/{id}/activate", post(models::activate))
        .route("/v1/models/retrain", post(models::retrain))
        .route("/v1/events", get(system::events))
        .route("/v1/stats", get(system::stats))
        .route("/v1/allocate", post(system::allocate))
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/openapi.json", get(system::openapi))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(CatchPanicLayer::custom(panic_to_problem))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
