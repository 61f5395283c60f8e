//! Images of offers and demands through the engine: an upload is decoded
//! under the configured limits, measured, given its visual vector and a
//! thumbnail (CPU work off the async workers, at most `PARALLEL` at once),
//! then stored; searches by image read this node's visual index.

use std::io::Cursor;
use std::sync::Arc;

use image::RgbImage;
use image::imageops::FilterType;
use serde::Serialize;
use sha2::{Digest, Sha256};
use wantloop_core::Offer;
use wantloop_image::{Extractor, ImageError, Limits};
use wantloop_store::{ImageInfo, ImageOwner, NewImage};

use crate::visual::{VisualFilter, VisualIndex};
use crate::{Engine, EngineError};

/// Image decodes and feature extractions running at once per node.
const PARALLEL: usize = 2;
/// Thumbnails fit in this square.
const THUMBNAIL: u32 = 256;
/// The most results a search by image returns.
pub const MAX_K: usize = 100;

/// What the engine needs to handle images.
pub struct Images {
    pub(crate) extractor: Extractor,
    pub(crate) limits: Limits,
    pub(crate) max_per_owner: u32,
    permits: tokio::sync::Semaphore,
}

impl Images {
    pub fn new(extractor: Extractor, limits: Limits, max_per_owner: u32) -> Self {
        Self { extractor, limits, max_per_owner, permits: tokio::sync::Semaphore::new(PARALLEL) }
    }
}

/// An upload, decoded and measured.
struct Prepared {
    content_type: &'static str,
    width: u32,
    height: u32,
    vector: Vec<f32>,
    thumbnail: Vec<u8>,
}

fn prepare(bytes: &[u8], limits: &Limits, extractor: &Extractor) -> Result<Prepared, ImageError> {
    let format = wantloop_image::decode::sniff(bytes)?;
    let image = wantloop_image::decode(bytes, limits)?;
    let vector = extractor.extract(&image)?;
    Ok(Prepared {
        content_type: format.to_mime_type(),
        width: image.width(),
        height: image.height(),
        vector,
        thumbnail: thumbnail(&image)?,
    })
}

/// A JPEG of the (upright) image fitting in 256 × 256.
fn thumbnail(image: &RgbImage) -> Result<Vec<u8>, ImageError> {
    let (w, h) = image.dimensions();
    let scale = (THUMBNAIL as f32 / w.max(h) as f32).min(1.0);
    let (tw, th) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
    let small = image::imageops::resize(image, tw, th, FilterType::Triangle);
    let mut out = Cursor::new(Vec::new());
    small.write_to(&mut out, image::ImageFormat::Jpeg).map_err(|e| ImageError::Corrupt(e.to_string()))?;
    Ok(out.into_inner())
}

/// An offer found by image.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageHit {
    pub offer: Offer,
    /// Cosine similarity of the visual vectors, −1 to 1.
    pub similarity: f32,
    /// Which of the offer's images matched (`/v1/offers/{id}/images/{position}`).
    pub image_position: i64,
}

impl Engine {
    /// Runs CPU-bound image work off the async workers, a few at a time.
    pub(crate) async fn image_work<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Extractor, &Limits) -> Result<T, ImageError> + Send + 'static,
    ) -> Result<T, EngineError> {
        let _permit = self.images.permits.acquire().await.map_err(|e| EngineError::Task(e.to_string()))?;
        let (extractor, limits) = (self.images.extractor.clone(), self.images.limits);
        tokio::task::spawn_blocking(move || work(&extractor, &limits))
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?
            .map_err(EngineError::Image)
    }

    /// Stores an image of an offer or demand; a bad or oversized image is
    /// refused before anything is stored.
    pub async fn add_image(&self, owner: ImageOwner, owner_id: i64, bytes: Vec<u8>) -> Result<ImageInfo, EngineError> {
        // The owner first: no decoding for an offer that is not there.
        self.owner_exists(owner, owner_id).await?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let (prepared, original) =
            self.image_work(move |extractor, limits| prepare(&bytes, limits, extractor).map(|p| (p, bytes))).await?;
        let image = NewImage {
            owner,
            owner_id,
            content_type: prepared.content_type.to_string(),
            width: prepared.width,
            height: prepared.height,
            sha256,
            features: self.images.extractor.describe(),
            vector: prepared.vector,
            original,
            thumbnail: prepared.thumbnail,
        };
        Ok(self.store.add_image(&image, self.images.max_per_owner).await?)
    }

    /// An owner's images; an unknown owner is `NotFound`, not an empty list.
    pub async fn images_of(&self, owner: ImageOwner, owner_id: i64) -> Result<Vec<ImageInfo>, EngineError> {
        self.owner_exists(owner, owner_id).await?;
        Ok(self.store.images_of(owner, owner_id).await?)
    }

    async fn owner_exists(&self, owner: ImageOwner, owner_id: i64) -> Result<(), EngineError> {
        match owner {
            ImageOwner::Offer => drop(self.store.get_offer(owner_id).await?),
            ImageOwner::Demand => drop(self.store.get_demand(owner_id).await?),
        }
        Ok(())
    }

    pub async fn image_bytes(
        &self,
        owner: ImageOwner,
        owner_id: i64,
        position: i64,
        thumbnail: bool,
    ) -> Result<(ImageInfo, Vec<u8>), EngineError> {
        Ok(self.store.image_bytes(owner, owner_id, position, thumbnail).await?)
    }

    pub async fn delete_image(
        &self,
        owner: ImageOwner,
        owner_id: i64,
        position: i64,
    ) -> Result<ImageInfo, EngineError> {
        Ok(self.store.delete_image(owner, owner_id, position).await?)
    }

    /// Catches the visual index up and writes its snapshot: at shutdown, so
    /// the next start loads the current graph.
    pub async fn save_visual_index(&self) -> Result<(), EngineError> {
        self.visual.catch_up(self.store.as_ref()).await?;
        self.visual.save().await;
        Ok(())
    }

    /// This node's visual index, caught up with the outbox.
    pub async fn visual_index(&self) -> Result<&Arc<VisualIndex>, EngineError> {
        self.visual.catch_up(self.store.as_ref()).await?;
        Ok(&self.visual)
    }

    /// Offers whose images look like `bytes`, best first.
    pub async fn search_by_image(
        &self,
        bytes: Vec<u8>,
        filter: &VisualFilter,
        k: usize,
    ) -> Result<Vec<ImageHit>, EngineError> {
        let query = self
            .image_work(move |extractor, limits| extractor.extract(&wantloop_image::decode(&bytes, limits)?))
            .await?;
        self.offers_near(&[query], filter, k).await
    }

    /// Offers that look like offer `offer_id` (by its images), best first.
    pub async fn similar_by_image(
        &self,
        offer_id: i64,
        filter: &VisualFilter,
        k: usize,
    ) -> Result<Vec<ImageHit>, EngineError> {
        self.store.get_offer(offer_id).await?;
        let vectors = self.visual_index().await?.vectors_of(offer_id);
        let filter = VisualFilter { exclude_offer: Some(offer_id), ..filter.clone() };
        self.offers_near(&vectors, &filter, k).await
    }

    async fn offers_near(
        &self,
        queries: &[Vec<f32>],
        filter: &VisualFilter,
        k: usize,
    ) -> Result<Vec<ImageHit>, EngineError> {
        let k = k.clamp(1, MAX_K);
        let index = self.visual_index().await?;
        // Each offer by its best match over the query vectors.
        let mut best: Vec<crate::visual::VisualHit> = Vec::new();
        for q in queries {
            for h in index.search(q, k, filter) {
                match best.iter_mut().find(|b| b.offer_id == h.offer_id) {
                    Some(b) if b.similarity < h.similarity => *b = h,
                    Some(_) => {}
                    None => best.push(h),
                }
            }
        }
        best.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then(a.offer_id.cmp(&b.offer_id)));
        best.truncate(k);
        let ids: Vec<i64> = best.iter().map(|h| h.offer_id).collect();
        let offers = self.store.offers_by_ids(&ids).await?;
        Ok(best
            .into_iter()
            .filter_map(|h| {
                let offer = offers.iter().find(|o| o.id == h.offer_id)?.clone();
                Some(ImageHit { offer, similarity: h.similarity, image_position: h.position })
            })
            .collect())
    }
}
