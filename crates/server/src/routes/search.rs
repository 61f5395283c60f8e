//! `/v1/search`: full-text search over offers and demands.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use wantloop_engine::EngineError;
use wantloop_search::{Kind, MAX_DEPTH, Near, SearchError, SearchRequest, SearchResults};

use crate::AppState;
use crate::extract::ApiQuery;
use crate::problem::{ApiError, Problem};

/// Longest query text accepted.
const MAX_QUERY_CHARS: usize = 1_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// Any text (at most 1,000 characters), searched as its words and character bigrams;
    /// a closed "phrase", -word / NOT word and AND between terms apply where used. Empty:
    /// browse by the filters alone.
    q: Option<String>,
    /// offer or demand.
    kind: Option<String>,
    category: Option<String>,
    price_min: Option<String>,
    price_max: Option<String>,
    /// `lat,lon`, with `km`.
    near: Option<String>,
    km: Option<String>,
    /// Only documents in this state (available, open, …).
    status: Option<String>,
    /// Offers similar to this offer id instead of a text query.
    more_like: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResponse {
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub results: SearchResults,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

fn int(field: &str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.filter(|v| !v.is_empty())
        .map(|v| v.parse::<i64>().map_err(|_| ApiError::bad_field(field, "must be an integer")))
        .transpose()
}

fn parse(q: &SearchQuery) -> Result<SearchRequest, ApiError> {
    let kind = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some("offer") => Some(Kind::Offer),
        Some("demand") => Some(Kind::Demand),
        Some(_) => return Err(ApiError::bad_field("kind", "must be offer or demand")),
    };
    let near = match q.near.as_deref().filter(|n| !n.is_empty()) {
        None => None,
        Some(n) => {
            let (lat, lon) = n
                .split_once(',')
                .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)))
                .ok_or_else(|| ApiError::bad_field("near", "must be lat,lon"))?;
            let p = wantloop_core::GeoPoint::parse("near", lat, lon)?;
            let km =
                q.km.as_deref()
                    .unwrap_or("10")
                    .parse::<f64>()
                    .ok()
                    .filter(|k| k.is_finite() && *k > 0.0 && *k <= 20_000.0)
                    .ok_or_else(|| ApiError::bad_field("km", "must be a number of km above 0"))?;
            Some(Near { lat: p.lat, lon: p.lon, km })
        }
    };
    let page = crate::paging::parse_page(q.limit.as_deref(), q.cursor.as_deref())?;
    if page.after as usize + page.limit as usize > MAX_DEPTH {
        return Err(ApiError::bad_field("cursor", format!("results are ranked only to the {MAX_DEPTH}th hit")));
    }
    let text = q.q.clone().unwrap_or_default();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_field("q", format!("must be at most {MAX_QUERY_CHARS} characters")));
    }
    let (price_min, price_max) = (int("price_min", q.price_min.as_deref())?, int("price_max", q.price_max.as_deref())?);
    if let (Some(lo), Some(hi)) = (price_min, price_max)
        && lo > hi
    {
        return Err(wantloop_core::ValidationError::one("price_min", "must not be above price_max").into());
    }
    Ok(SearchRequest {
        q: text,
        kind,
        category: q.category.clone().filter(|c| !c.is_empty()),
        price_min,
        price_max,
        near,
        status: q.status.clone().filter(|s| !s.is_empty()),
        more_like: int("more_like", q.more_like.as_deref())?,
        limit: page.limit as usize,
        offset: page.after as usize,
    })
}

/// Ranked hits with highlighted snippets, the total, and counts per category.
#[utoipa::path(get, path = "/v1/search", tag = "search", security(("bearer" = ["admin", "service", "provider", "user"])), params(SearchQuery),
    responses((status = 200, body = SearchResponse), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn search(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<SearchResponse>, ApiError> {
    let request = parse(&q)?;
    let results = s.engine.search(&request).await.map_err(|e| match e {
        EngineError::Search(SearchError::Query(m)) => ApiError::bad_field("q", m),
        EngineError::Search(e @ SearchError::TooDeep { .. }) => ApiError::bad_field("cursor", e.to_string()),
        other => ApiError::Engine(other),
    })?;
    let shown = request.offset + results.hits.len();
    let next_cursor = (results.hits.len() == request.limit && shown < results.total).then(|| shown.to_string());
    Ok(Json(SearchResponse { results, next_cursor }))
}
