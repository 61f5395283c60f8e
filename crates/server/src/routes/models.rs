//! `/v1/models`: the model registry.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use wantloop_store::{Job, ModelInfo};

use crate::AppState;
use crate::extract::{ApiQuery, IdPath, Idempotency, OptionalJsonBody};
use crate::jobs;
use crate::problem::{ApiError, Problem};
use crate::reply::Reply;
use wantloop_engine::RetrainOutcome;
use wantloop_engine::models::{CLASSIFIER, PARAPHRASE, RANKER, RECOMMENDER};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ModelQuery {
    /// `classifier`, …
    kind: Option<String>,
}

/// Every registered model with its version, metrics and parameters.
#[utoipa::path(get, path = "/v1/models", tag = "models", security(("bearer" = ["admin"])), params(ModelQuery), responses((status = 200, body = Vec<ModelInfo>)))]
pub async fn list(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ModelQuery>,
) -> Result<Json<Vec<ModelInfo>>, ApiError> {
    Ok(Json(s.engine.store().list_models(q.kind.as_deref().filter(|k| !k.is_empty())).await?))
}

/// Make a model its kind's active one; activating an older version is a rollback.
/// This node serves it at once; other nodes within their poll interval.
#[utoipa::path(post, path = "/v1/models/{id}/activate", tag = "models", security(("bearer" = ["admin"])), params(("id" = i64, Path)),
    responses((status = 200, body = ModelInfo), (status = 404, body = Problem)))]
pub async fn activate(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    idem: Idempotency,
    body: OptionalJsonBody<serde_json::Value>,
) -> Result<Reply<ModelInfo>, ApiError> {
    let key = idem.for_request(&body.raw, StatusCode::OK);
    let out = s.engine.activate_model(id, key.as_ref()).await?;
    Ok(Reply::from_outcome(StatusCode::OK, out))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RetrainQuery {
    /// `classifier` (default), `recommender`, `ranker` (from matches' outcomes) or
    /// `paraphrase` (the assistant's scorer, from the FAQ and the operators' answers).
    kind: Option<String>,
    /// For the recommender: auto (default: every family compared on validation), hybrid, ease, als, rp3beta, itemknn or popularity.
    model: Option<String>,
}

/// Retrain now: the classifier from every labelled example the store keeps,
/// the recommender from the stored interactions, the ranker from the
/// matches' outcomes, or the assistant's paraphrase scorer from the FAQ and
/// the operators' answers to kept questions. The new model goes live
/// only through the paired held-out comparison (see the README). Runs as a
/// job, like `POST /v1/allocate`: `202` with `Location` when it outlasts the
/// request timeout or `Prefer: respond-async` is sent; `409` while the same
/// kind is already retraining.
#[utoipa::path(post, path = "/v1/models/retrain", tag = "models", security(("bearer" = ["admin"])),
    params(RetrainQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key: a repeat answers for the same job"),
        ("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 with the job at once"),
    ),
    responses((status = 200, body = RetrainOutcome), (status = 202, body = Job, description = "Still running: poll `Location`"),
        (status = 400, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn retrain(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<RetrainQuery>,
    headers: HeaderMap,
    idem: Idempotency,
    body: OptionalJsonBody<serde_json::Value>,
) -> Result<Response, ApiError> {
    let engine = s.engine.clone();
    let key = idem.for_request(&body.raw, StatusCode::ACCEPTED);
    let respond_async = jobs::prefers_async(&headers);
    match q.kind.as_deref().unwrap_or(CLASSIFIER) {
        CLASSIFIER => {
            let work = async move { engine.retrain_classifier().await.map_err(ApiError::from) };
            jobs::run(&s, "retrain.classifier", key, respond_async, work).await
        }
        RECOMMENDER => {
            let model = q.model.unwrap_or_else(|| "auto".into());
            if !["auto", "hybrid", "ease", "als", "rp3beta", "itemknn", "popularity"].contains(&model.as_str()) {
                return Err(ApiError::bad_field(
                    "model",
                    "must be auto, hybrid, ease, als, rp3beta, itemknn or popularity",
                ));
            }
            let work = async move { engine.retrain_recommender(&model).await.map_err(ApiError::from) };
            jobs::run(&s, "retrain.recommender", key, respond_async, work).await
        }
        RANKER => {
            let work = async move { engine.retrain_ranker().await.map_err(ApiError::from) };
            jobs::run(&s, "retrain.ranker", key, respond_async, work).await
        }
        PARAPHRASE => {
            let work = async move { engine.retrain_paraphrase().await.map_err(ApiError::from) };
            jobs::run(&s, "retrain.paraphrase", key, respond_async, work).await
        }
        _ => Err(ApiError::bad_field("kind", "must be classifier, recommender, ranker or paraphrase")),
    }
}
