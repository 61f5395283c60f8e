//! Successful responses, fresh or replayed for a repeated idempotency key.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use wantloop_store::Outcome;

pub enum Reply<T> {
    Fresh(StatusCode, T),
    Replayed { status: u16, body: String },
}

impl<T> Reply<T> {
    pub fn from_outcome(status: StatusCode, outcome: Outcome<T>) -> Self {
        match outcome {
            Outcome::Done(v) => Self::Fresh(status, v),
            Outcome::Replayed(r) => Self::Replayed { status: r.status, body: r.body },
        }
    }
}

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        match self {
            Self::Fresh(status, v) => (status, axum::Json(v)).into_response(),
            Self::Replayed { status, body } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                let mut resp = (status, body).into_response();
                let headers = resp.headers_mut();
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
                resp
            }
        }
    }
}
