//! Re-vectorising stored images: after `wantloop models install image` (or
//! the network's removal) the images stored before carry vectors of the
//! other features, which no visual index compares with its own. This gives
//! each of them a vector from this node's extractor, read from its stored
//! original, and the store's `image.revectored` event moves it into every
//! node's visual index.

use serde::Serialize;
use wantloop_store::StoreError;

use crate::{Engine, EngineError};

/// Image rows read at a time.
const PAGE: u32 = 200;

/// What a re-vectorising pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RevectorReport {
    /// Images looked at.
    pub checked: u64,
    /// Images given this node's features.
    pub revectored: u64,
    /// Images whose stored original no longer decodes (kept as they were).
    pub failed: u64,
}

impl Engine {
    /// Re-vectorises every stored image made by other features than this
    /// node's; `progress` hears the count of images looked at. An image
    /// deleted meanwhile is skipped; one that does not decode is counted.
    pub async fn revectorise_images(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<RevectorReport, EngineError> {
        let features = self.images.extractor.describe();
        let mut report = RevectorReport::default();
        let mut after = 0;
        loop {
            let page = self.store.image_vectors_after(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.info.id;
            for row in page {
                report.checked += 1;
                progress(report.checked);
                if row.info.features == features {
                    continue;
                }
                let info = row.info;
                let bytes = match self.store.image_bytes(info.owner, info.owner_id, info.position, false).await {
                    Ok((_, bytes)) => bytes,
                    Err(StoreError::NotFound { .. }) => continue,
                    Err(e) => return Err(e.into()),
                };
                let vector = self
                    .image_work(move |extractor, limits| extractor.extract(&wantloop_image::decode(&bytes, limits)?))
                    .await;
                match vector {
                    Ok(vector) => match self.store.set_image_vector(info.id, &features, &vector).await {
                        Ok(_) => report.revectored += 1,
                        Err(StoreError::NotFound { .. }) => {}
                        Err(e) => return Err(e.into()),
                    },
                    Err(EngineError::Image(e)) => {
                        tracing::warn!(image = info.id, error = %e, "a stored image no longer decodes");
                        report.failed += 1;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(report)
    }
}
