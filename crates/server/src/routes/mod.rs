//! The HTTP surface: routes, the OpenAPI document that describes them, and the
//! layers every request passes (tracing span, panic guard, body limit).

mod ask;
mod demands;
mod doc;
mod images;
mod keys;
mod matches;
mod models;
mod offers;
mod recommend;
mod review;
mod search;
mod synonyms;
mod system;
mod ui;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wantloop_engine::Engine;

pub use system::parse_mode;

use crate::admission::{Admission, Limits};
use crate::auth::{Access, Gate};
use crate::problem::ApiError;
use crate::{AppState, BODY_LIMIT_BYTES, MAX_RUNNING_JOBS};

/// The document's header; its paths come from the routes below.
#[derive(OpenApi)]
#[openapi(
    info(title = "wantloop", description = "Demand-satisfaction engine: demands, offers, matches, allocation."),
    tags((name = "demands"), (name = "offers"), (name = "matches"), (name = "classification"), (name = "recommendations"), (name = "search"), (name = "assistant"), (name = "models"), (name = "keys"), (name = "system"), (name = "ui")),
    security(("bearer" = []))
)]
struct ApiDoc;

/// Every route with its OpenAPI entry: `routes!` takes the method and path
/// from each handler's `#[utoipa::path]`, so a route cannot be registered here
/// without being documented (plain `route` calls are refused by clippy.toml).
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(demands::create, demands::list))
        .routes(routes!(demands::get))
        .routes(routes!(demands::cancel))
        .routes(routes!(demands::match_demand))
        .routes(routes!(demands::candidates))
        .routes(routes!(offers::create, offers::list))
        .routes(routes!(offers::get))
        .routes(routes!(offers::withdraw))
        .routes(routes!(offers::demands))
        .routes(routes!(matches::list))
        .routes(routes!(matches::get))
        .routes(routes!(matches::accept))
        .routes(routes!(matches::reject))
        .routes(routes!(matches::fulfil))
        .routes(routes!(search::search))
        .routes(routes!(recommend::record))
        .routes(routes!(recommend::for_user))
        .routes(routes!(recommend::similar))
        .routes(routes!(review::classify))
        .routes(routes!(review::queue))
        .routes(routes!(review::review))
        .routes(routes!(models::list))
        .routes(routes!(models::activate))
        .routes(routes!(models::retrain))
        .routes(routes!(system::events))
        .routes(routes!(system::stats))
        .routes(routes!(system::match_timeline))
        .routes(routes!(system::cluster))
        .routes(routes!(system::allocate))
        .routes(routes!(system::job))
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(system::openapi))
        .routes(routes!(system::metrics))
        .routes(routes!(keys::create, keys::list))
        .routes(routes!(keys::revoke))
        .routes(routes!(keys::me))
        .routes(routes!(synonyms::current, synonyms::save))
        .routes(routes!(synonyms::versions))
        .routes(routes!(synonyms::expand))
        .routes(routes!(ask::ask))
        .routes(routes!(ask::list, ask::save))
        .routes(routes!(ask::get, ask::delete))
        .routes(routes!(ask::import))
        .routes(routes!(ask::closest))
        .routes(routes!(ask::questions))
        .routes(routes!(ask::resolve))
        .routes(routes!(ask::triples))
        .routes(routes!(ui::index))
        .routes(routes!(ui::asset))
        .merge(image_routes())
}

/// The routes whose bodies are images: up to 10 MB instead of 64 KB (the
/// inner limit is the one their extractor reads).
fn image_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(images::offer_upload, images::offer_list))
        .routes(routes!(images::offer_get, images::offer_delete))
        .routes(routes!(images::demand_upload, images::demand_list))
        .routes(routes!(images::demand_get, images::demand_delete))
        .routes(routes!(images::search))
        .layer(DefaultBodyLimit::max(crate::extract::IMAGE_BODY_LIMIT))
}

/// The OpenAPI document of every route, completed with the answers the
/// middleware and extractors give (see `doc.rs`).
pub fn openapi() -> serde_json::Value {
    document(api().split_for_parts().1)
}

fn document(doc: utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    doc::complete(&mut doc);
    doc
}

/// The routes alone, without state or layers: for tests that compare what
/// the router serves with what the document lists.
pub fn bare_router() -> Router<AppState> {
    api().split_for_parts().0
}

async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute(uri.path().to_string())
}

async fn wrong_method() -> ApiError {
    ApiError::MethodNotAllowed
}

fn panic_to_problem(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    ApiError::Internal.into_response()
}

pub fn router(engine: Engine, limits: Limits, access: Access) -> Router {
    let (routes, doc) = api().split_for_parts();
    let openapi = Arc::new(document(doc));
    let gate = Arc::new(Gate::new(&openapi, engine.store().clone(), access));
    let state = AppState {
        engine,
        openapi,
        jobs: Arc::new(tokio::sync::Semaphore::new(MAX_RUNNING_JOBS)),
        job_wait: limits.request_timeout,
        gate: gate.clone(),
    };
    let body_timeout = limits.body_timeout;
    let admission = Arc::new(Admission::new(limits));
    crate::observe::prometheus();
    // The last layer added is the outermost: a request meets the request id
    // first, then the trace span (which logs the id), the metrics, admission.
    routes
        .route_layer(axum::middleware::from_fn_with_state(gate, crate::auth::authenticate))
        .route_layer(axum::middleware::from_fn(crate::observe::label_route))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(body_timeout))
        .layer(CatchPanicLayer::custom(panic_to_problem))
        .layer(axum::middleware::from_fn_with_state(admission, crate::admission::admit))
        .layer(axum::middleware::from_fn(crate::observe::record))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id)
        }))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(crate::observe::MakeId::default()))
        .layer(axum::middleware::from_fn(crate::observe::sanitise_request_id))
        .with_state(state)
}
