//! Untrusted images: what is refused, and what is read upright.

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage};
use wantloop_image::{ImageError, Limits, decode};

fn encoded(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// 4×2: the left half red, the right half blue.
fn halves() -> RgbImage {
    RgbImage::from_fn(4, 2, |x, _| if x < 2 { Rgb([250, 0, 0]) } else { Rgb([0, 0, 250]) })
}

#[test]
fn png_jpeg_and_webp_are_read() {
    for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP] {
        let image = decode(&encoded(&halves(), format), &Limits::default()).unwrap();
        assert_eq!(image.dimensions(), (4, 2), "{format:?}");
        assert!(image.get_pixel(0, 0)[0] > 200 && image.get_pixel(3, 1)[2] > 200, "{format:?}");
    }
}

#[test]
fn other_formats_and_garbage_are_refused() {
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    assert!(matches!(decode(gif, &Limits::default()), Err(ImageError::UnsupportedFormat)));
    let bmp = b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0";
    assert!(matches!(decode(bmp, &Limits::default()), Err(ImageError::UnsupportedFormat)));
    assert!(matches!(decode(b"hello, not an image", &Limits::default()), Err(ImageError::UnsupportedFormat)));
    assert!(matches!(decode(&[], &Limits::default()), Err(ImageError::UnsupportedFormat)));
}

#[test]
fn truncated_images_are_refused() {
    let big = RgbImage::from_fn(64, 64, |x, y| Rgb([x as u8 * 4, y as u8 * 4, 7]));
    for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP] {
        let bytes = encoded(&big, format);
        let cut = &bytes[..bytes.len() / 2];
        let e = decode(cut, &Limits::default()).unwrap_err();
        assert!(matches!(e, ImageError::Corrupt(_)), "{format:?}: {e}");
    }
}

#[test]
fn byte_pixel_and_side_limits_hold() {
    let image = RgbImage::new(20, 20);
    let png = encoded(&image, ImageFormat::Png);
    let small = Limits { max_bytes: 10, ..Limits::default() };
    assert!(matches!(decode(&png, &small), Err(ImageError::TooManyBytes { limit: 10 })));
    let few = Limits { max_pixels: 399, ..Limits::default() };
    assert!(matches!(decode(&png, &few), Err(ImageError::TooManyPixels { pixels: 400, limit: 399 })));
    assert!(decode(&png, &Limits { max_pixels: 400, ..Limits::default() }).is_ok());
}

/// A PNG whose header claims 60,000 × 60,000 pixels (10.8 GB decoded) with
/// a few bytes of data: refused from the header, before any allocation.
#[test]
fn a_decompression_bomb_is_refused_from_its_header() {
    let mut png = encoded(&RgbImage::new(1, 1), ImageFormat::Png);
    // IHDR's width and height sit at bytes 16..24; its CRC at 29..33.
    png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let e = decode(&png, &Limits::default()).unwrap_err();
    assert!(matches!(e, ImageError::TooLarge { .. } | ImageError::OverLimit(_)), "{e}");
    let e = decode(&png, &Limits { max_side: 100_000, ..Limits::default() }).unwrap_err();
    assert!(matches!(e, ImageError::TooManyPixels { .. } | ImageError::OverLimit(_)), "{e}");
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A JPEG with an EXIF APP1 segment holding only Orientation = `value`.
fn with_orientation(jpeg: &[u8], value: u16) -> Vec<u8> {
    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes()); // first IFD
    tiff.extend(1u16.to_le_bytes()); // one entry
    tiff.extend(0x0112u16.to_le_bytes()); // Orientation
    tiff.extend(3u16.to_le_bytes()); // SHORT
    tiff.extend(1u32.to_le_bytes());
    tiff.extend(value.to_le_bytes());
    tiff.extend([0, 0]);
    tiff.extend(0u32.to_le_bytes()); // no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend([0xFF, 0xE1]);
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend(&jpeg[2..]);
    out
}

#[test]
fn exif_orientation_is_applied() {
    let jpeg = encoded(&RgbImage::from_fn(16, 8, |x, _| halves().get_pixel(x / 4, 0).to_owned()), ImageFormat::Jpeg);
    let plain = decode(&jpeg, &Limits::default()).unwrap();
    assert_eq!(plain.dimensions(), (16, 8));
    // 6: rotate 90° clockwise to display — the left (red) side comes on top.
    let rotated = decode(&with_orientation(&jpeg, 6), &Limits::default()).unwrap();
    assert_eq!(rotated.dimensions(), (8, 16));
    let (top, bottom) = (rotated.get_pixel(4, 2), rotated.get_pixel(4, 13));
    assert!(top[0] > 200 && top[2] < 60, "top {top:?}");
    assert!(bottom[2] > 200 && bottom[0] < 60, "bottom {bottom:?}");
    // 3: upside down — blue on the left.
    let flipped = decode(&with_orientation(&jpeg, 3), &Limits::default()).unwrap();
    assert_eq!(flipped.dimensions(), (16, 8));
    assert!(flipped.get_pixel(1, 4)[2] > 200, "{:?}", flipped.get_pixel(1, 4));
}
