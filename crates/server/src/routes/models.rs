//! `/v1/models`: the model registry.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use wantloop_store::ModelInfo;

use crate::AppState;
use crate::extract::{ApiQuery, IdPath, Idempotency, OptionalJsonBody};
use crate::problem::{ApiError, Problem};
use crate::reply::Reply;
use wantloop_engine::RetrainOutcome;
use wantloop_engine::models::{CLASSIFIER, RECOMMENDER};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ModelQuery {
    /// `classifier`, …
    kind: Option<String>,
}

/// Every registered model with its version, metrics and parameters.
#[utoipa::path(get, path = "/v1/models", tag = "models", params(ModelQuery), responses((status = 200, body = Vec<ModelInfo>)))]
pub async fn list(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ModelQuery>,
) -> Result<Json<Vec<ModelInfo>>, ApiError> {
    Ok(Json(s.engine.store().list_models(q.kind.as_deref().filter(|k| !k.is_empty())).await?))
}

/// Make a model its kind's active one; activating an older version is a rollback.
/// This node serves it at once; other nodes within their poll interval.
#[utoipa::path(post, path = "/v1/models/{id}/activate", tag = "models", params(("id" = i64, Path)),
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
    /// `classifier` (default) or `recommender`.
    kind: Option<String>,
    /// For the recommender: auto (default), ease, als, itemknn or popularity.
    model: Option<String>,
}

/// Retrain now: the classifier from the configured base file and the review
/// labels, or the recommender from the stored interactions. The new model is
/// activated only if it is not worse than the active one on held-out data.
#[utoipa::path(post, path = "/v1/models/retrain", tag = "models", params(RetrainQuery),
    responses((status = 200, body = RetrainOutcome), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn retrain(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<RetrainQuery>,
) -> Result<Json<RetrainOutcome>, ApiError> {
    let outcome = match q.kind.as_deref().unwrap_or(CLASSIFIER) {
        CLASSIFIER => s.engine.retrain_classifier().await?,
        RECOMMENDER => {
            let model = q.model.as_deref().unwrap_or("auto");
            if !["auto", "ease", "als", "itemknn", "popularity"].contains(&model) {
                return Err(ApiError::bad_field("model", "must be auto, ease, als, itemknn or popularity"));
            }
            s.engine.retrain_recommender(model).await?
        }
        _ => return Err(ApiError::bad_field("kind", "must be classifier or recommender")),
    };
    Ok(Json(outcome))
}
