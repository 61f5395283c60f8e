//! Successful responses, fresh or replayed for a repeated idempotency key.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use wantloop_store::Outcome;

pub enum Reply<T> {
    Fresh(StatusCode, T),
    Replayed {
        status: u16,
        body: String,
    },
    /// `201 Created` with the new resource's `Location`.
    Created {
        location: String,
        reply: Box<Reply<T>>,
    },
}

impl<T> Reply<T> {
    pub fn from_outcome(status: StatusCode, outcome: Outcome<T>) -> Self {
        match outcome {
            Outcome::Done(v) => Self::Fresh(status, v),
            Outcome::Replayed(r) => Self::Replayed { status: r.status, body: r.body },
        }
    }

    /// A created resource under `collection` (e.g. `/v1/demands`), fresh or
    /// replayed, with its `Location` (from the id in the body).
    pub fn created(collection: &str, outcome: Outcome<T>, id_of: impl Fn(&T) -> i64) -> Self {
        let id = match &outcome {
            Outcome::Done(v) => Some(id_of(v)),
            Outcome::Replayed(r) => {
                serde_json::from_str::<serde_json::Value>(&r.body).ok().and_then(|b| b["id"].as_i64())
            }
        };
        let reply = Self::from_outcome(StatusCode::CREATED, outcome);
        match id {
            Some(id) => Self::Created { location: format!("{collection}/{id}"), reply: Box::new(reply) },
            None => reply,
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
            Self::Created { location, reply } => {
                let mut resp = reply.into_response();
                if let Ok(l) = HeaderValue::from_str(&location) {
                    resp.headers_mut().insert(header::LOCATION, l);
                }
                resp
            }
        }
    }
}
