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
use crate::retrain::{RetrainOutcome, retrain_classifier};

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
    let store = s.engine.store();
    let kind = store.get_model(id).await?.kind;
    if kind == crate::models::CLASSIFIER {
        // Refuse to activate bytes this build cannot load.
        let bytes = store.model_blob(id).await?;
        wantloop_ml::Classifier::from_bytes(&bytes)
            .map_err(|e| ApiError::bad_field("id", format!("model {id} cannot be loaded: {e}")))?;
    }
    let key = idem.for_request(&body.raw, StatusCode::OK);
    let out = store.activate_model(id, key.as_ref()).await?;
    s.engine.classifier().refresh(store.as_ref()).await?;
    Ok(Reply::from_outcome(StatusCode::OK, out))
}

/// Retrain the classifier now from the configured base file and the review labels.
#[utoipa::path(post, path = "/v1/models/retrain", tag = "models",
    responses((status = 200, body = RetrainOutcome), (status = 422, body = Problem)))]
pub async fn retrain(State(s): State<AppState>) -> Result<Json<RetrainOutcome>, ApiError> {
    let outcome = retrain_classifier(s.engine.store().as_ref(), &s.retrain).await?;
    s.engine.classifier().refresh(s.engine.store().as_ref()).await?;
    Ok(Json(outcome))
}
