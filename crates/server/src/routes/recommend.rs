//! Interactions in, recommendations out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use wantloop_core::values::{Category, PartyId};
use wantloop_core::{Interaction, InteractionInput, ValidationError};

use super::demands::parse_limit;
use crate::AppState;
use crate::auth::{Caller, privacy};
use crate::extract::{ApiQuery, IdPath, Idempotency, JsonBody, TextPath};
use crate::problem::{ApiError, Problem};
use crate::reply::Reply;
use wantloop_engine::recommend::{RecommendOptions, Recommendations, Recommended};

/// One interaction, or a batch of them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum InteractionBody {
    Batch { interactions: Vec<InteractionInput> },
    One(InteractionInput),
}

/// Record views, clicks, accepts, fulfilments or ratings (accepts and
/// fulfilments of matches are recorded automatically).
#[utoipa::path(post, path = "/v1/interactions", tag = "recommendations", security(("bearer" = ["admin", "service", "user"])), request_body = InteractionBody,
    responses((status = 201, body = Vec<Interaction>), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn record(
    State(s): State<AppState>,
    caller: Caller,
    idem: Idempotency,
    body: JsonBody<InteractionBody>,
) -> Result<Reply<Vec<Interaction>>, ApiError> {
    let inputs: Vec<(String, &InteractionInput)> = match &body.value {
        InteractionBody::One(i) => vec![(String::new(), i)],
        InteractionBody::Batch { interactions } => {
            interactions.iter().enumerate().map(|(n, i)| (format!("interactions[{n}]"), i)).collect()
        }
    };
    if inputs.is_empty() || inputs.len() > 1_000 {
        return Err(ValidationError::one("interactions", "must hold 1 to 1000 interactions").into());
    }
    let mut batch = Vec::with_capacity(inputs.len());
    let mut errors = Vec::new();
    for (prefix, input) in inputs {
        match input.parse(&prefix) {
            Ok(i) => batch.push(i),
            Err(e) => errors.extend(e.0),
        }
    }
    if !errors.is_empty() {
        return Err(ValidationError(errors).into());
    }
    // A user key records its own party's interactions only.
    for i in &batch {
        caller.require(i.user.as_str())?;
    }
    let key = idem.for_request(&body.raw, StatusCode::CREATED);
    let out = s.engine.store().record_interactions(&batch, key.as_ref()).await?;
    Ok(Reply::from_outcome(StatusCode::CREATED, out))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RecommendQuery {
    /// How many (1–1000, default 20).
    k: Option<String>,
    /// Only offers of this category.
    category: Option<String>,
    /// At most this many offers per category (diversity).
    per_category: Option<String>,
}

/// Offers for a person: the active model's ranking, with popular and
/// content-based fallbacks; own, consumed and unavailable offers never appear.
#[utoipa::path(get, path = "/v1/users/{id}/recommendations", tag = "recommendations", security(("bearer" = ["admin", "service", "user"])),
    params(("id" = String, Path), RecommendQuery),
    responses((status = 200, body = Recommendations), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn for_user(
    State(s): State<AppState>,
    caller: Caller,
    TextPath(user): TextPath,
    ApiQuery(q): ApiQuery<RecommendQuery>,
) -> Result<Json<Recommendations>, ApiError> {
    let user = PartyId::parse("id", &user)?;
    caller.require(user.as_str())?;
    let per_category = match q.per_category.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ApiError::bad_field("per_category", "must be a positive integer"))?,
        ),
    };
    let options = RecommendOptions {
        k: parse_limit(q.k.as_deref()).map_err(|_| ApiError::bad_field("k", "must be an integer from 1 to 1000"))?,
        category: q
            .category
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| Category::parse("category", c))
            .transpose()?
            .map(|c| c.as_str().to_string()),
        per_category,
    };
    let mut found = s.engine.recommend(user.as_str(), &options).await?;
    for r in &mut found.items {
        r.offer = privacy::offer(&caller, r.offer.clone());
    }
    Ok(Json(found))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SimilarQuery {
    /// How many (1–1000, default 20; 1–100 by image).
    k: Option<String>,
    /// `image`: offers that look alike, by their images (source `image`,
    /// score = cosine similarity); otherwise the recommender's.
    by: Option<String>,
}

/// Available offers like this one (model item–item scores, else text).
#[utoipa::path(get, path = "/v1/offers/{id}/similar", tag = "recommendations", security(("bearer" = ["admin", "service", "provider", "user"])), params(("id" = i64, Path), SimilarQuery),
    responses((status = 200, body = Vec<Recommended>), (status = 404, body = Problem)))]
pub async fn similar(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<SimilarQuery>,
) -> Result<Json<Vec<Recommended>>, ApiError> {
    let mut found = match q.by.as_deref() {
        Some("image") => {
            let query = super::images::ImageSearchQuery { k: q.k.clone(), ..Default::default() };
            let (filter, k) = super::images::visual_filter(&query, 20)?;
            let hits = s.engine.similar_by_image(id, &filter, k).await?;
            hits.into_iter()
                .map(|h| Recommended { offer: h.offer, score: f64::from(h.similarity), source: "image".into() })
                .collect()
        }
        None | Some("behaviour") => {
            let k = parse_limit(q.k.as_deref())
                .map_err(|_| ApiError::bad_field("k", "must be an integer from 1 to 1000"))?;
            s.engine.similar(id, k).await?
        }
        Some(other) => return Err(ApiError::bad_field("by", format!("must be image or behaviour, not {other:?}"))),
    };
    for r in &mut found {
        r.offer = privacy::offer(&caller, r.offer.clone());
    }
    Ok(Json(found))
}
