//! `/v1/keys` (admin): API keys made, listed and revoked over the API as with
//! `wantloop keys`; `/v1/me`: the caller's own key.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use wantloop_core::{ApiKey, KeyInput, Role};

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{IdPath, JsonBody};
use crate::problem::{ApiError, Problem};

/// A key just made: `token` is what a client sends, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    pub key: ApiKey,
    /// `wlk_<id>_<secret>`; only its hash is stored.
    pub token: String,
}

#[utoipa::path(post, path = "/v1/keys", tag = "keys", security(("bearer" = ["admin"])), request_body = KeyInput,
    responses((status = 201, body = CreatedKey), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    body: JsonBody<KeyInput>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let new = body.value.parse()?;
    let (key, token) = s.engine.store().create_key(&new).await?;
    Ok((StatusCode::CREATED, Json(CreatedKey { key, token })))
}

#[utoipa::path(get, path = "/v1/keys", tag = "keys", security(("bearer" = ["admin"])),
    responses((status = 200, body = Vec<ApiKey>)))]
pub async fn list(State(s): State<AppState>) -> Result<Json<Vec<ApiKey>>, ApiError> {
    Ok(Json(s.engine.store().list_keys().await?))
}

/// Revoke a key: this node refuses it at once, every other node within 5 s.
#[utoipa::path(post, path = "/v1/keys/{id}/revoke", tag = "keys", security(("bearer" = ["admin"])),
    params(("id" = i64, Path)), responses((status = 200, body = ApiKey), (status = 404, body = Problem)))]
pub async fn revoke(State(s): State<AppState>, IdPath(id): IdPath) -> Result<Json<ApiKey>, ApiError> {
    let key = s.engine.store().revoke_key(id).await?;
    s.gate.forget(id);
    Ok(Json(key))
}

/// Who the caller is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The key's id; none on a server without keys (`serve --open`).
    pub key: Option<i64>,
    pub role: Role,
    pub party: Option<String>,
}

#[utoipa::path(get, path = "/v1/me", tag = "keys", security(("bearer" = ["admin", "service", "provider", "user"])),
    responses((status = 200, body = Me)))]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me { key: caller.key, role: caller.role, party: caller.party })
}
