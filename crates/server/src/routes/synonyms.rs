//! `/v1/synonyms` (admin): the operators' synonym list, in the synonyms-file
//! format of Solr and Elasticsearch, versioned; a saved version applies to
//! this node's searches and matching at once and to every other node's from
//! the outbox. The bundled bilingual dictionary always applies first.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use wantloop_engine::SynonymsInForce;
use wantloop_store::SynonymList;

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{ApiQuery, JsonBody};
use crate::problem::{ApiError, Problem};

/// A new version of the list.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SynonymsInput {
    /// One rule a line: `a, b, c` (each finds the others) or `a, b => c`
    /// (one way); `#` comments. An empty list removes the operators' rules.
    #[schema(example = "单车, 自行车, bike\n山地车 => 自行车, mountain bike")]
    pub rules: String,
}

/// The list in force.
#[utoipa::path(get, path = "/v1/synonyms", tag = "search", security(("bearer" = ["admin"])),
    responses((status = 200, body = SynonymsInForce)))]
pub async fn current(State(s): State<AppState>) -> Result<Json<SynonymsInForce>, ApiError> {
    Ok(Json(s.engine.synonyms().await?))
}

/// Save a new version; a line that does not parse is a 422 naming `rules`
/// and the line, and nothing is saved.
#[utoipa::path(put, path = "/v1/synonyms", tag = "search", security(("bearer" = ["admin"])),
    request_body = SynonymsInput, responses((status = 200, body = SynonymList), (status = 422, body = Problem)))]
pub async fn save(
    State(s): State<AppState>,
    caller: Caller,
    body: JsonBody<SynonymsInput>,
) -> Result<Json<SynonymList>, ApiError> {
    let author = caller.key.map(|k| format!("key {k}"));
    Ok(Json(s.engine.save_synonyms(&body.value.rules, author.as_deref()).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct VersionsQuery {
    /// How many, newest first (1–100, default 20).
    limit: Option<String>,
}

/// Saved versions, newest first.
#[utoipa::path(get, path = "/v1/synonyms/versions", tag = "search", security(("bearer" = ["admin"])),
    params(VersionsQuery), responses((status = 200, body = Vec<SynonymList>), (status = 400, body = Problem)))]
pub async fn versions(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<VersionsQuery>,
) -> Result<Json<Vec<SynonymList>>, ApiError> {
    let limit = match q.limit.as_deref() {
        None | Some("") => 20,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| ApiError::bad_field("limit", "limit must be a whole number from 1 to 100"))?,
    };
    Ok(Json(s.engine.synonym_versions(limit).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExpandQuery {
    /// A query or a text (at most 1,000 characters).
    q: Option<String>,
}

/// What a text is expanded with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Expansion {
    pub q: String,
    /// The phrases added to its query (each sharing half the weight of the
    /// phrase it stands for).
    pub expansions: Vec<String>,
}

/// The phrases the list in force adds to a query: to check a rule.
#[utoipa::path(get, path = "/v1/synonyms/expand", tag = "search", security(("bearer" = ["admin"])),
    params(ExpandQuery), responses((status = 200, body = Expansion), (status = 400, body = Problem)))]
pub async fn expand(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ExpandQuery>,
) -> Result<Json<Expansion>, ApiError> {
    let q = q.q.unwrap_or_default();
    if q.chars().count() > 1_000 {
        return Err(ApiError::bad_field("q", "q is longer than 1,000 characters"));
    }
    let expansions = s.engine.synonym_expansions(&q);
    Ok(Json(Expansion { q, expansions }))
}
