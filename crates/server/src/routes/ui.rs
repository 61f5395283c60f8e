//! `/ui`: the operator's dashboard, a static page and script built into the
//! binary (nothing is fetched at run time) that drive the JSON API with the
//! admin key the operator logs in with. The files themselves need no key:
//! they hold no data. A strict content security policy allows only these
//! files' own scripts and styles.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::extract::TextPath;
use crate::problem::ApiError;

/// The dashboard's files: name, content type, bytes.
const FILES: &[(&str, &str, &[u8])] = &[
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../ui/app.js")),
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../ui/app.css")),
    // uPlot 1.6.32 from the npm registry (MIT, see ui/vendor/uPlot.LICENSE).
    ("uPlot.iife.min.js", "text/javascript; charset=utf-8", include_bytes!("../../ui/vendor/uPlot.iife.min.js")),
    ("uPlot.min.css", "text/css; charset=utf-8", include_bytes!("../../ui/vendor/uPlot.min.css")),
    ("uPlot.LICENSE", "text/plain; charset=utf-8", include_bytes!("../../ui/vendor/uPlot.LICENSE")),
];

const INDEX: &[u8] = include_bytes!("../../ui/index.html");

fn file(content_type: &'static str, bytes: &'static [u8]) -> Response {
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// The dashboard (log in with an admin key).
#[utoipa::path(get, path = "/ui", tag = "ui", security(()),
    responses((status = 200, description = "The dashboard's page", content_type = "text/html", body = String)))]
pub async fn index() -> Response {
    file("text/html; charset=utf-8", INDEX)
}

/// One of the dashboard's scripts or style sheets.
#[utoipa::path(get, path = "/ui/{file}", tag = "ui", security(()), params(("file" = String, Path)),
    responses((status = 200, description = "A script, style sheet or licence",
            content((String = "text/javascript"), (String = "text/css"), (String = "text/plain"))),
        (status = 404, body = crate::problem::Problem)))]
pub async fn asset(TextPath(name): TextPath) -> Result<Response, ApiError> {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, content_type, bytes)| file(content_type, bytes))
        .ok_or_else(|| ApiError::NoRoute(format!("/ui/{name}")))
}
