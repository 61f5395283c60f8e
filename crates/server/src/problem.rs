//! Errors as RFC 9457 `application/problem+json`. [`ApiError`] is the one type
//! handlers return; `status_and_slug` is the one table from error to status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use wantloop_core::{FieldError, ValidationError};
use wantloop_store::StoreError;

use wantloop_engine::EngineError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Validation(#[from] ValidationError),
    #[error("{message}")]
    BadRequest { field: Option<String>, message: String },
    #[error("request body is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    #[error("no route for {0}")]
    NoRoute(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("the request target is longer than the limit of {limit} bytes")]
    UriTooLong { limit: usize },
    #[error("the request headers are larger than the limit of {limit} bytes")]
    HeadersTooLarge { limit: usize },
    #[error("too many requests from this client; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("the server is at its limit of requests in flight; retry shortly")]
    Overloaded,
    #[error("the request did not finish within {seconds} s")]
    TimedOut { seconds: f64 },
    #[error("the request body did not arrive in time")]
    BodyTimeout,
    #[error("the server is not ready: {0}")]
    NotReady(String),
    /// No valid API key (missing, malformed, unknown or revoked).
    #[error("{0}")]
    Unauthorized(String),
    /// A valid key whose role or party may not do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("internal error")]
    Internal,
}

impl ApiError {
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadRequest { field: Some(field.into()), message: message.into() }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The fields at fault, when the problem is with the input.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<FieldError>,
}

fn status_and_slug(e: &ApiError) -> (StatusCode, &'static str, &'static str) {
    use StatusCode as S;
    match e {
        ApiError::Validation(_) => (S::UNPROCESSABLE_ENTITY, "validation", "Invalid input"),
        ApiError::BadRequest { .. } => (S::BAD_REQUEST, "bad-request", "Malformed request"),
        ApiError::TooLarge { .. } => (S::PAYLOAD_TOO_LARGE, "too-large", "Request body too large"),
        ApiError::UnsupportedMediaType => (S::UNSUPPORTED_MEDIA_TYPE, "media-type", "Unsupported media type"),
        ApiError::NoRoute(_) => (S::NOT_FOUND, "no-route", "Not found"),
        ApiError::UriTooLong { .. } => (S::URI_TOO_LONG, "uri-too-long", "Request target too long"),
        ApiError::HeadersTooLarge { .. } => {
            (S::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers-too-large", "Request headers too large")
        }
        ApiError::RateLimited { .. } => (S::TOO_MANY_REQUESTS, "rate-limited", "Too many requests"),
        ApiError::Overloaded => (S::SERVICE_UNAVAILABLE, "overloaded", "Server busy"),
        ApiError::TimedOut { .. } => (S::SERVICE_UNAVAILABLE, "timeout", "Request timed out"),
        ApiError::NotReady(_) => (S::SERVICE_UNAVAILABLE, "not-ready", "Not ready"),
        ApiError::BodyTimeout => (S::REQUEST_TIMEOUT, "body-timeout", "Request body too slow"),
        ApiError::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "method", "Method not allowed"),
        ApiError::Unauthorized(_) => (S::UNAUTHORIZED, "unauthorized", "API key required"),
        ApiError::Forbidden(_) => (S::FORBIDDEN, "forbidden", "Not allowed for this key"),
        ApiError::Store(s) | ApiError::Engine(EngineError::Store(s)) => match s {
            StoreError::NotFound { .. } => (S::NOT_FOUND, "not-found", "Not found"),
            StoreError::IllegalTransition { .. } => (S::CONFLICT, "illegal-transition", "Illegal state transition"),
            StoreError::IdempotencyKeyReused(_) => {
                (S::UNPROCESSABLE_ENTITY, "idempotency-key-reused", "Idempotency key reused")
            }
            StoreError::RelistTooLarge { .. } => (S::UNPROCESSABLE_ENTITY, "validation", "Invalid input"),
            StoreError::TooManyImages { .. } => (S::CONFLICT, "too-many-images", "Too many images"),
            _ => (S::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
        },
        ApiError::Engine(EngineError::Training(_) | EngineError::Classifier(_)) => {
            (S::UNPROCESSABLE_ENTITY, "training", "Training failed")
        }
        ApiError::Engine(EngineError::ModelNotLoadable { .. }) => (S::BAD_REQUEST, "bad-request", "Malformed request"),
        ApiError::Engine(EngineError::Busy(_)) => (S::CONFLICT, "busy", "Already running"),
        ApiError::Engine(EngineError::Synonyms(_)) => (S::UNPROCESSABLE_ENTITY, "validation", "Invalid input"),
        ApiError::Engine(EngineError::Invalid(_)) => (S::UNPROCESSABLE_ENTITY, "validation", "Invalid input"),
        ApiError::Engine(EngineError::Image(wantloop_image::ImageError::TooManyBytes { .. })) => {
            (S::PAYLOAD_TOO_LARGE, "too-large", "Image too large")
        }
        ApiError::Engine(EngineError::Image(_)) => (S::UNPROCESSABLE_ENTITY, "invalid-image", "Invalid image"),
        ApiError::Engine(
            EngineError::Alloc(_)
            | EngineError::Search(_)
            | EngineError::Seam(_)
            | EngineError::Task(_)
            | EngineError::Sentence(_),
        )
        | ApiError::Internal => (S::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
    }
}

fn field_errors(e: &ApiError) -> Vec<FieldError> {
    let one = |field: &str, message: String| vec![FieldError { field: field.to_string(), message }];
    match e {
        ApiError::Validation(v) => v.0.clone(),
        ApiError::BadRequest { field: Some(f), message } => one(f, message.clone()),
        ApiError::Store(StoreError::RelistTooLarge { .. }) => one("relist.quantity", e.to_string()),
        ApiError::Store(StoreError::IdempotencyKeyReused(_)) => one("Idempotency-Key", e.to_string()),
        ApiError::Engine(EngineError::ModelNotLoadable { .. }) => one("id", e.to_string()),
        ApiError::Engine(EngineError::Image(_)) | ApiError::Store(StoreError::TooManyImages { .. }) => {
            one("image", e.to_string())
        }
        ApiError::Engine(EngineError::Store(StoreError::TooManyImages { .. })) => one("image", e.to_string()),
        ApiError::Engine(EngineError::Synonyms(_)) => one("rules", e.to_string()),
        ApiError::Engine(EngineError::Invalid(v)) => v.0.clone(),
        ApiError::Unauthorized(m) => one("Authorization", m.clone()),
        _ => Vec::new(),
    }
}

impl ApiError {
    /// The status and RFC 9457 body this error is answered with.
    pub fn to_problem(&self) -> (StatusCode, Problem) {
        let (status, slug, title) = status_and_slug(self);
        let expected = matches!(self, ApiError::Overloaded | ApiError::TimedOut { .. } | ApiError::NotReady(_));
        let detail = if status.is_server_error() && !expected {
            tracing::error!(error = %self, "request failed");
            "the server could not complete the request; it has been logged".to_string()
        } else {
            self.to_string()
        };
        let problem = Problem {
            kind: format!("/problems/{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail,
            errors: field_errors(self),
        };
        (status, problem)
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            ApiError::Overloaded | ApiError::TimedOut { .. } | ApiError::NotReady(_) => Some(1),
            _ => None,
        }
    }
}

/// A problem+json response from a status and a body (one stored with a job).
pub fn problem_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, problem) = self.to_problem();
        let mut resp = problem_response(status, serde_json::to_vec(&problem).unwrap_or_default());
        if matches!(self, ApiError::Unauthorized(_)) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after() {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}
