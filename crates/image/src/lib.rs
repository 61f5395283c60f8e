//! Images of wantloop.
//!
//! - `decode`: bytes → pixels under limits (size, pixel count, formats),
//!   EXIF orientation applied; the only way an untrusted image is read.
//! - `features`: the visual vector of an image. Hand-crafted blocks
//!   (colour, texture, shape) always; the embedding of a pretrained
//!   network (`learned`) when its weights are installed. Each block is
//!   L2-normalised and weighted, so the cosine of two vectors is the
//!   weighted mean of the blocks' cosines.
//! - `ann`: nearest neighbours by cosine, approximate (HNSW) with filters
//!   applied inside the graph search, and exact for reference.

pub mod ann;
pub mod decode;
pub mod features;
pub mod learned;

pub use decode::{Limits, decode};
pub use features::{Extractor, FeatureSet};

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("not a PNG, JPEG or WebP image")]
    UnsupportedFormat,
    #[error("image is larger than {limit} bytes")]
    TooManyBytes { limit: usize },
    #[error("image has {pixels} pixels, more than the limit of {limit}")]
    TooManyPixels { pixels: u64, limit: u64 },
    #[error("image is {width}x{height}, a side exceeds the limit of {limit} pixels")]
    TooLarge { width: u32, height: u32, limit: u32 },
    #[error("image exceeds the decoding limits: {0}")]
    OverLimit(String),
    #[error("image is truncated or corrupt: {0}")]
    Corrupt(String),
    #[error("model file {path}: {reason}")]
    Model { path: String, reason: String },
    #[error("{0}")]
    Index(String),
}
