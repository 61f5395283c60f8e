//! The visual vector of an image: blocks (the pretrained network's
//! embedding when installed; colour, texture and shape always), each
//! L2-normalised, scaled by its weight and concatenated, the whole
//! normalised again. The cosine of two vectors is then the weighted mean of
//! the blocks' cosines, and blocks of weight 0 are left out.

pub mod colour;
pub mod shape;
pub mod texture;

use std::sync::Arc;

use image::RgbImage;
use image::imageops::FilterType;
use serde::Serialize;

use crate::ImageError;
use crate::learned::Network;

/// Hand-crafted blocks are computed at this size, so that texture measures
/// the same scale whatever the upload's resolution.
const SIDE: u32 = 128;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Weights {
    pub learned: f32,
    pub colour: f32,
    pub texture: f32,
    pub shape: f32,
}

impl Weights {
    /// The best mean validation mAP over both COIL folders' first halves
    /// of objects (`eval images --tune`, README "Image search"): colour
    /// carries coloured objects; texture and shape, grey ones.
    pub const HAND_CRAFTED: Weights = Weights { learned: 0.0, colour: 1.0, texture: 0.5, shape: 0.25 };
    /// Chosen the same way, for when the network is installed.
    pub const LEARNED: Weights = Weights { learned: 1.0, colour: 1.0, texture: 0.0, shape: 0.0 };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureSet {
    HandCrafted,
    Learned,
}

/// Every block of one image, unweighted (each L2-normalised).
#[derive(Debug, Clone)]
pub struct Blocks {
    pub learned: Option<Vec<f32>>,
    pub colour: Vec<f32>,
    pub texture: Vec<f32>,
    pub shape: Vec<f32>,
}

impl Blocks {
    /// The weighted vector; blocks of weight 0 (or absent) are left out.
    pub fn combine(&self, w: &Weights) -> Vec<f32> {
        let mut out = Vec::new();
        let parts = [
            (self.learned.as_deref(), w.learned),
            (Some(&self.colour[..]), w.colour),
            (Some(&self.texture[..]), w.texture),
            (Some(&self.shape[..]), w.shape),
        ];
        for (block, weight) in parts {
            if let Some(b) = block.filter(|_| weight > 0.0) {
                out.extend(b.iter().map(|x| x * weight));
            }
        }
        normalise(&mut out);
        out
    }
}

pub fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

fn normalised(mut v: Vec<f32>) -> Vec<f32> {
    normalise(&mut v);
    v
}

/// Turns images into vectors. Cheap to clone (the network is shared).
#[derive(Clone)]
pub struct Extractor {
    network: Option<Arc<Network>>,
    weights: Weights,
}

impl Extractor {
    pub fn hand_crafted() -> Self {
        Self { network: None, weights: Weights::HAND_CRAFTED }
    }

    pub fn learned(network: Arc<Network>) -> Self {
        Self { network: Some(network), weights: Weights::LEARNED }
    }

    /// The network's extractor when `weights` names its file, else the
    /// hand-crafted one: the one choice the engine and the evaluation share.
    pub fn from_weights(weights: Option<&std::path::Path>) -> Result<Self, ImageError> {
        Ok(match weights {
            Some(path) => Self::learned(Arc::new(Network::load(path)?)),
            None => Self::hand_crafted(),
        })
    }

    pub fn with_weights(mut self, weights: Weights) -> Self {
        self.weights = weights;
        self
    }

    pub fn weights(&self) -> Weights {
        self.weights
    }

    pub fn set(&self) -> FeatureSet {
        if self.network.is_some() { FeatureSet::Learned } else { FeatureSet::HandCrafted }
    }

    /// What the vectors are made of, for reports.
    pub fn describe(&self) -> String {
        let w = self.weights;
        let mut parts = Vec::new();
        if self.network.is_some() && w.learned > 0.0 {
            parts.push(format!("efficientnet-lite0 embedding ({}) x{}", crate::learned::DIM, w.learned));
        }
        for (name, dim, weight) in [
            ("hsv colour histogram", colour::DIM, w.colour),
            ("lbp texture", texture::DIM, w.texture),
            ("hog shape", shape::DIM, w.shape),
        ] {
            if weight > 0.0 {
                parts.push(format!("{name} ({dim}) x{weight}"));
            }
        }
        parts.join(" + ")
    }

    pub fn blocks(&self, image: &RgbImage) -> Result<Blocks, ImageError> {
        let small = image::imageops::resize(image, SIDE, SIDE, FilterType::Triangle);
        let grey = image::DynamicImage::ImageRgb8(small.clone()).into_luma8();
        let learned = match &self.network {
            Some(n) => Some(normalised(n.embed(image)?)),
            None => None,
        };
        Ok(Blocks {
            learned,
            colour: normalised(colour::histogram(&small)),
            texture: normalised(texture::histogram(&grey)),
            shape: normalised(shape::histogram(&grey)),
        })
    }

    pub fn extract(&self, image: &RgbImage) -> Result<Vec<f32>, ImageError> {
        Ok(self.blocks(image)?.combine(&self.weights))
    }
}
