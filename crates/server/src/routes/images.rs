//! Images of offers and demands (`…/images`, raw bodies of PNG, JPEG or
//! WebP up to 10 MB), and search by image (`/v1/search/image`). A bad,
//! oversized or undecodable image is a problem naming the field, and
//! nothing is stored.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wantloop_core::GeoPoint;
use wantloop_engine::ImageHit;
use wantloop_engine::visual::VisualFilter;
use wantloop_store::{ImageInfo, ImageOwner};

use crate::AppState;
use crate::auth::{Caller, privacy};
use crate::extract::{ApiQuery, IdPath, ImageBody, ImagePath};
use crate::problem::{ApiError, Problem};

/// An image's bytes (PNG, JPEG or WebP), as request and response bodies.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // only its schema is used: the bodies are raw bytes
pub struct ImageBytes(Vec<u8>);

/// An HTML form's upload: the image as the part named `image`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // only its schema is used: the extractor reads the part
pub struct ImageForm {
    #[schema(value_type = String, format = Binary)]
    image: Vec<u8>,
}

/// The caller may change (and, for demands, see) this owner's images.
async fn check_owner(s: &AppState, caller: &Caller, owner: ImageOwner, id: i64) -> Result<(), ApiError> {
    let party = match owner {
        ImageOwner::Offer => s.engine.store().get_offer(id).await?.provider,
        ImageOwner::Demand => s.engine.store().get_demand(id).await?.requester,
    };
    caller.require(&party)
}

async fn upload(s: AppState, caller: Caller, owner: ImageOwner, id: i64, body: Bytes) -> Result<Response, ApiError> {
    check_owner(&s, &caller, owner, id).await?;
    let info = s.engine.add_image(owner, id, body.to_vec()).await?;
    let location = format!("/v1/{}s/{id}/images/{}", owner.as_str(), info.position);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(info)).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ImageQuery {
    /// `thumb` for a JPEG at most 256 pixels a side; the original otherwise.
    size: Option<String>,
}

async fn bytes(s: &AppState, owner: ImageOwner, p: &ImagePath, q: &ImageQuery) -> Result<Response, ApiError> {
    let thumbnail = match q.size.as_deref() {
        None | Some("original") => false,
        Some("thumb") => true,
        Some(other) => return Err(ApiError::bad_field("size", format!("must be thumb or original, not {other:?}"))),
    };
    let (info, bytes) = s.engine.image_bytes(owner, p.id, p.position, thumbnail).await?;
    let content_type = if thumbnail { "image/jpeg".to_string() } else { info.content_type };
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "private, max-age=86400".into())], bytes)
        .into_response())
}

/// Add an image to an offer (the raw bytes as the body).
#[utoipa::path(post, path = "/v1/offers/{id}/images", tag = "offers", security(("bearer" = ["admin", "service", "provider"])),
    params(("id" = i64, Path)),
    request_body(content((ImageBytes = "image/png"), (ImageBytes = "image/jpeg"), (ImageBytes = "image/webp"), (ImageForm = "multipart/form-data"))),
    responses((status = 201, body = ImageInfo), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn offer_upload(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ImageBody(body): ImageBody,
) -> Result<Response, ApiError> {
    upload(s, caller, ImageOwner::Offer, id, body).await
}

/// An offer's images, by position.
#[utoipa::path(get, path = "/v1/offers/{id}/images", tag = "offers", security(("bearer" = ["admin", "service", "provider", "user"])),
    params(("id" = i64, Path)), responses((status = 200, body = Vec<ImageInfo>), (status = 404, body = Problem)))]
pub async fn offer_list(State(s): State<AppState>, IdPath(id): IdPath) -> Result<Json<Vec<ImageInfo>>, ApiError> {
    Ok(Json(s.engine.images_of(ImageOwner::Offer, id).await?))
}

/// One of an offer's images (`?size=thumb` for its thumbnail).
#[utoipa::path(get, path = "/v1/offers/{id}/images/{position}", tag = "offers", security(("bearer" = ["admin", "service", "provider", "user"])),
    params(("id" = i64, Path), ("position" = i64, Path), ImageQuery),
    responses((status = 200, content((ImageBytes = "image/png"), (ImageBytes = "image/jpeg"), (ImageBytes = "image/webp"))), (status = 404, body = Problem)))]
pub async fn offer_get(
    State(s): State<AppState>,
    p: ImagePath,
    ApiQuery(q): ApiQuery<ImageQuery>,
) -> Result<Response, ApiError> {
    bytes(&s, ImageOwner::Offer, &p, &q).await
}

/// Delete one of an offer's images.
#[utoipa::path(delete, path = "/v1/offers/{id}/images/{position}", tag = "offers", security(("bearer" = ["admin", "service", "provider"])),
    params(("id" = i64, Path), ("position" = i64, Path)),
    responses((status = 200, body = ImageInfo), (status = 404, body = Problem)))]
pub async fn offer_delete(
    State(s): State<AppState>,
    caller: Caller,
    p: ImagePath,
) -> Result<Json<ImageInfo>, ApiError> {
    check_owner(&s, &caller, ImageOwner::Offer, p.id).await?;
    Ok(Json(s.engine.delete_image(ImageOwner::Offer, p.id, p.position).await?))
}

/// Add an image to a demand ("one like this").
#[utoipa::path(post, path = "/v1/demands/{id}/images", tag = "demands", security(("bearer" = ["admin", "service", "user"])),
    params(("id" = i64, Path)),
    request_body(content((ImageBytes = "image/png"), (ImageBytes = "image/jpeg"), (ImageBytes = "image/webp"), (ImageForm = "multipart/form-data"))),
    responses((status = 201, body = ImageInfo), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn demand_upload(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    ImageBody(body): ImageBody,
) -> Result<Response, ApiError> {
    upload(s, caller, ImageOwner::Demand, id, body).await
}

/// A demand's images, by position (its requester's, an admin's or a service's).
#[utoipa::path(get, path = "/v1/demands/{id}/images", tag = "demands", security(("bearer" = ["admin", "service", "user"])),
    params(("id" = i64, Path)), responses((status = 200, body = Vec<ImageInfo>), (status = 404, body = Problem)))]
pub async fn demand_list(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> Result<Json<Vec<ImageInfo>>, ApiError> {
    check_owner(&s, &caller, ImageOwner::Demand, id).await?;
    Ok(Json(s.engine.images_of(ImageOwner::Demand, id).await?))
}

/// One of a demand's images (`?size=thumb` for its thumbnail).
#[utoipa::path(get, path = "/v1/demands/{id}/images/{position}", tag = "demands", security(("bearer" = ["admin", "service", "user"])),
    params(("id" = i64, Path), ("position" = i64, Path), ImageQuery),
    responses((status = 200, content((ImageBytes = "image/png"), (ImageBytes = "image/jpeg"), (ImageBytes = "image/webp"))), (status = 404, body = Problem)))]
pub async fn demand_get(
    State(s): State<AppState>,
    caller: Caller,
    p: ImagePath,
    ApiQuery(q): ApiQuery<ImageQuery>,
) -> Result<Response, ApiError> {
    check_owner(&s, &caller, ImageOwner::Demand, p.id).await?;
    bytes(&s, ImageOwner::Demand, &p, &q).await
}

/// Delete one of a demand's images.
#[utoipa::path(delete, path = "/v1/demands/{id}/images/{position}", tag = "demands", security(("bearer" = ["admin", "service", "user"])),
    params(("id" = i64, Path), ("position" = i64, Path)),
    responses((status = 200, body = ImageInfo), (status = 404, body = Problem)))]
pub async fn demand_delete(
    State(s): State<AppState>,
    caller: Caller,
    p: ImagePath,
) -> Result<Json<ImageInfo>, ApiError> {
    check_owner(&s, &caller, ImageOwner::Demand, p.id).await?;
    Ok(Json(s.engine.delete_image(ImageOwner::Demand, p.id, p.position).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ImageSearchQuery {
    /// How many offers (1–100, default 10).
    pub k: Option<String>,
    pub category: Option<String>,
    /// Highest price, in minor units.
    pub max_price: Option<String>,
    /// With `lon` and `km`: only offers within `km` of this point.
    pub lat: Option<String>,
    pub lon: Option<String>,
    pub km: Option<String>,
    /// `false` to include offers with no free units (default `true`).
    pub available: Option<String>,
}

fn number<T: std::str::FromStr>(field: &str, raw: Option<&str>) -> Result<Option<T>, ApiError> {
    raw.map(|v| v.trim().parse::<T>().map_err(|_| ApiError::bad_field(field, format!("not a number: {v:?}"))))
        .transpose()
}

/// The filter and `k` of a search by image, from its query.
pub fn visual_filter(q: &ImageSearchQuery, default_k: usize) -> Result<(VisualFilter, usize), ApiError> {
    let k = number::<usize>("k", q.k.as_deref())?.unwrap_or(default_k);
    if !(1..=wantloop_engine::MAX_IMAGE_RESULTS).contains(&k) {
        return Err(ApiError::bad_field("k", "must be an integer from 1 to 100"));
    }
    let category = q
        .category
        .as_deref()
        .map(|c| wantloop_core::values::Category::parse("category", c).map(|c| c.as_str().to_string()))
        .transpose()?;
    let max_price = number::<i64>("max_price", q.max_price.as_deref())?;
    let near = match (
        number::<f64>("lat", q.lat.as_deref())?,
        number::<f64>("lon", q.lon.as_deref())?,
        number::<f64>("km", q.km.as_deref())?,
    ) {
        (None, None, None) => None,
        (Some(lat), Some(lon), Some(km)) => {
            if !(-90.0..=90.0).contains(&lat) {
                return Err(ApiError::bad_field("lat", "must be between -90 and 90"));
            }
            if !(-180.0..=180.0).contains(&lon) {
                return Err(ApiError::bad_field("lon", "must be between -180 and 180"));
            }
            if !(km > 0.0 && km <= 20_000.0) {
                return Err(ApiError::bad_field("km", "must be above 0 and at most 20000"));
            }
            Some((GeoPoint { lat, lon }, km))
        }
        _ => return Err(ApiError::bad_field("km", "lat, lon and km go together")),
    };
    let available_only = match q.available.as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => return Err(ApiError::bad_field("available", format!("must be true or false, not {other:?}"))),
    };
    Ok((VisualFilter { category, max_price, available_only, near, exclude_offer: None }, k))
}

/// Offers whose images look like the one sent (the raw bytes as the body), best first.
#[utoipa::path(post, path = "/v1/search/image", tag = "search", security(("bearer" = ["admin", "service", "provider", "user"])),
    params(ImageSearchQuery),
    request_body(content((ImageBytes = "image/png"), (ImageBytes = "image/jpeg"), (ImageBytes = "image/webp"), (ImageForm = "multipart/form-data"))),
    responses((status = 200, body = Vec<ImageHit>), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn search(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ImageSearchQuery>,
    ImageBody(body): ImageBody,
) -> Result<Json<Vec<ImageHit>>, ApiError> {
    let (filter, k) = visual_filter(&q, 10)?;
    let mut hits = s.engine.search_by_image(body.to_vec(), &filter, k).await?;
    for h in &mut hits {
        h.offer = privacy::offer(&caller, h.offer.clone());
    }
    Ok(Json(hits))
}
