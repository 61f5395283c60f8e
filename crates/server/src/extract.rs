//! Request extractors that turn every malformed input into a problem+json
//! response naming the field at fault (axum's own rejections are plain text).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use wantloop_store::IdemKey;

use crate::problem::ApiError;

/// A JSON body, parsed with the path of the offending field in errors, and
/// kept raw for the idempotency fingerprint.
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

/// Reads a body that must be JSON: a non-empty body without a JSON
/// `Content-Type` (or with none) is refused with 415.
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let json = req.headers().get(header::CONTENT_TYPE).map(|ct| {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        ct.starts_with("application/json") || ct.contains("+json")
    });
    if json == Some(false) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let raw = Bytes::from_request(req, state).await.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(inner) if inner.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::TooLarge { limit: crate::BODY_LIMIT_BYTES }
        }
        BytesRejection::FailedToBufferBody(inner) if timed_out(&inner) => ApiError::BodyTimeout,
        other => ApiError::BadRequest { field: None, message: other.body_text() },
    })?;
    if json.is_none() && !raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::UnsupportedMediaType);
    }
    Ok(raw)
}

/// Whether reading the body failed because the client took too long.
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Parses JSON, reporting the path of the field that failed (`location.lat`).
/// Every request body of this API is a JSON object.
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    if raw.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::BadRequest { field: None, message: "the body must be a JSON object".into() });
    }
    let de = &mut serde_json::Deserializer::from_slice(raw);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = format!("invalid JSON: {inner}");
        if matches!(path.as_str(), "." | "?" | "") {
            ApiError::BadRequest { field: None, message }
        } else {
            ApiError::bad_field(path, message)
        }
    })
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let raw = read_body(req, state).await?;
        Ok(Self { value: parse_json(&raw)?, raw })
    }
}

/// An optional JSON body: empty means `None`.
pub struct OptionalJsonBody<T> {
    pub value: Option<T>,
    pub raw: Bytes,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let raw = read_body(req, state).await?;
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self { value: None, raw });
        }
        Ok(Self { value: Some(parse_json(&raw)?), raw })
    }
}

/// A numeric `{id}` path segment.
pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_field("id", e.body_text()))?;
        raw.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(IdPath)
            .ok_or_else(|| ApiError::bad_field("id", format!("must be a positive integer, got {raw:?}")))
    }
}

/// A text `{id}` path segment (a person's id), with a problem on failure.
pub struct TextPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for TextPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(raw)| Self(raw))
            .map_err(|e| ApiError::bad_field("id", e.body_text()))
    }
}

/// The `Idempotency-Key` header, with what identifies the request it came with.
pub struct Idempotency {
    key: Option<String>,
    method: String,
    path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Idempotency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let key = match parts.headers.get("idempotency-key") {
            None => None,
            Some(v) => {
                let k = v.to_str().unwrap_or_default();
                if k.is_empty() || k.len() > 255 || !k.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(ApiError::bad_field("Idempotency-Key", "must be 1 to 255 visible ASCII characters"));
                }
                Some(k.to_string())
            }
        };
        let target = parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_string(), |p| p.to_string());
        Ok(Self { key, method: parts.method.to_string(), path: target })
    }
}

impl Idempotency {
    /// The key for the store, fingerprinted by method, path, query and body, so the
    /// same key sent with a different request is refused rather than replayed.
    pub fn for_request(&self, body: &[u8], success: StatusCode) -> Option<IdemKey> {
        let key = self.key.as_ref()?;
        let mut h = Sha256::new();
        h.update(self.method.as_bytes());
        h.update([0]);
        h.update(self.path.as_bytes());
        h.update([0]);
        h.update(body);
        let fingerprint = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Some(IdemKey { key: key.clone(), fingerprint, status: success.as_u16() })
    }
}

/// A query string, with axum's plain-text rejection turned into a problem.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Self(q.0))
            .map_err(|e| ApiError::BadRequest { field: None, message: e.body_text() })
    }
}

/// The most bytes an image body may have; the decoder's limits apply after.
pub const IMAGE_BODY_LIMIT: usize = 10 << 20;

/// An image sent as the raw body (`Content-Type: image/png`, `image/jpeg`
/// or `image/webp`), or as the part named `image` of a
/// `multipart/form-data` body (an HTML form's upload). What the bytes are
/// is checked when decoding.
pub struct ImageBody(pub Bytes);

/// The `image` part of a multipart body.
async fn image_part<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let mut form = axum::extract::Multipart::from_request(req, state)
        .await
        .map_err(|e| ApiError::bad_field("Content-Type", e.body_text()))?;
    let too_large = |e: axum::extract::multipart::MultipartError| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge { limit: IMAGE_BODY_LIMIT },
        _ => ApiError::bad_field("image", e.body_text()),
    };
    while let Some(field) = form.next_field().await.map_err(too_large)? {
        if field.name() == Some("image") {
            return field.bytes().await.map_err(too_large);
        }
    }
    Err(ApiError::bad_field("image", "the form has no part named image"))
}

impl<S: Send + Sync> FromRequest<S> for ImageBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let ct = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let multipart = ct == "multipart/form-data";
        if !multipart && !["image/png", "image/jpeg", "image/webp"].contains(&ct.as_str()) {
            return Err(ApiError::bad_field(
                "Content-Type",
                format!("send the image as image/png, image/jpeg, image/webp or multipart/form-data, not {ct:?}"),
            ));
        }
        // A declared length over the limit is refused before any byte is read.
        let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > IMAGE_BODY_LIMIT as u64) {
            return Err(ApiError::TooLarge { limit: IMAGE_BODY_LIMIT });
        }
        let raw = if multipart {
            image_part(req, state).await?
        } else {
            Bytes::from_request(req, state).await.map_err(|e| match e {
                BytesRejection::FailedToBufferBody(inner) if inner.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::TooLarge { limit: IMAGE_BODY_LIMIT }
                }
                BytesRejection::FailedToBufferBody(inner) if timed_out(&inner) => ApiError::BodyTimeout,
                other => ApiError::BadRequest { field: None, message: other.body_text() },
            })?
        };
        if raw.is_empty() {
            return Err(ApiError::bad_field("image", "the body is empty: send the image's bytes"));
        }
        Ok(Self(raw))
    }
}

/// `{id}` and `{position}` path segments (an owner's image).
pub struct ImagePath {
    pub id: i64,
    pub position: i64,
}

impl<S: Send + Sync> FromRequestParts<S> for ImagePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path((id, position)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_field("id", e.body_text()))?;
        let positive = |field: &str, raw: &str| {
            raw.parse::<i64>()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| ApiError::bad_field(field, format!("must be a positive integer, got {raw:?}")))
        };
        Ok(Self { id: positive("id", &id)?, position: positive("position", &position)? })
    }
}
