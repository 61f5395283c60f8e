//! Untrusted bytes → RGB pixels, bounded. The byte size is checked before
//! anything is parsed, the header's dimensions before any pixel is
//! allocated (a decompression bomb is refused from its header), and the
//! decoder's own allocation limit backs both up.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use crate::ImageError;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_pixels: u64,
    pub max_side: u32,
}

impl Default for Limits {
    /// 10 MB, 40 megapixels, 12,000 pixels a side: any phone's photo.
    fn default() -> Self {
        Self { max_bytes: 10 << 20, max_pixels: 40_000_000, max_side: 12_000 }
    }
}

/// The format of `bytes` when it is one the product accepts.
pub fn sniff(bytes: &[u8]) -> Result<ImageFormat, ImageError> {
    match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP)) => Ok(f),
        _ => Err(ImageError::UnsupportedFormat),
    }
}

/// Decodes `bytes` within `limits`, upright (EXIF orientation applied).
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<RgbImage, ImageError> {
    if bytes.len() > limits.max_bytes {
        return Err(ImageError::TooManyBytes { limit: limits.max_bytes });
    }
    let format = sniff(bytes)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut bounds = image::Limits::default();
    bounds.max_image_width = Some(limits.max_side);
    bounds.max_image_height = Some(limits.max_side);
    // Room for the decoded RGBA pixels and a copy, nothing more.
    bounds.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    reader.limits(bounds);
    let mut decoder = reader.into_decoder().map_err(|e| refused(e, limits))?;
    let (width, height) = decoder.dimensions();
    if width > limits.max_side || height > limits.max_side {
        return Err(ImageError::TooLarge { width, height, limit: limits.max_side });
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(ImageError::TooManyPixels { pixels, limit: limits.max_pixels });
    }
    if pixels == 0 {
        return Err(ImageError::Corrupt("the image has no pixels".into()));
    }
    let orientation = decoder.orientation().map_err(|e| refused(e, limits))?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| refused(e, limits))?;
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}

fn refused(e: image::ImageError, limits: &Limits) -> ImageError {
    match e {
        image::ImageError::Limits(e) => ImageError::OverLimit(format!("{e} (limit {} pixels)", limits.max_pixels)),
        image::ImageError::Unsupported(_) => ImageError::UnsupportedFormat,
        other => ImageError::Corrupt(other.to_string()),
    }
}
