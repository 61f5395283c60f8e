//! The pretrained network, when its weights are installed: set
//! `WANTLOOP_IMAGE_MODEL` to the .pth (`wantloop models install image`
//! writes it to DATA_DIR/models/efficientnet-lite0.pth; CI sets both and
//! `WANTLOOP_REQUIRE_IMAGE_MODEL=1`). Without it these tests say so and pass.

use std::path::PathBuf;

use image::{Rgb, RgbImage};
use wantloop_image::ImageError;
use wantloop_image::features::normalise;
use wantloop_image::learned::{self, Network};

fn weights() -> Option<PathBuf> {
    learned::testing::weights("the pretrained network's tests are skipped")
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    normalise(&mut v);
    v
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A disc of `colour` on white, at `(cx, cy)` with radius `r`.
fn disc(colour: [u8; 3], cx: f32, cy: f32, r: f32) -> RgbImage {
    RgbImage::from_fn(160, 160, |x, y| {
        if (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) < r * r { Rgb(colour) } else { Rgb([255, 255, 255]) }
    })
}

/// Stripes: a texture the discs do not have.
fn stripes(shift: u32) -> RgbImage {
    RgbImage::from_fn(160, 160, |x, _| {
        if ((x + shift) / 8).is_multiple_of(2) { Rgb([20, 20, 20]) } else { Rgb([240, 240, 240]) }
    })
}

#[test]
fn the_network_embeds_and_tells_shapes_apart() {
    let Some(path) = weights() else { return };
    let bytes = std::fs::metadata(&path).unwrap().len();
    assert!(bytes > 10_000_000, "the weights file is {bytes} bytes");
    let net = Network::load(&path).unwrap();
    let a = net.embed(&disc([200, 30, 30], 80.0, 80.0, 50.0)).unwrap();
    assert_eq!(a.len(), learned::DIM);
    assert!(a.iter().all(|x| x.is_finite() && *x >= 0.0), "ReLU6 then mean: finite, non-negative");
    assert!(a.iter().filter(|x| **x > 0.0).count() > 100, "a real embedding is not mostly zero");
    assert_eq!(a, net.embed(&disc([200, 30, 30], 80.0, 80.0, 50.0)).unwrap(), "deterministic");
    // Two discs (moved, recoloured) are nearer each other than either is to stripes.
    let a = unit(a);
    let b = unit(net.embed(&disc([30, 30, 200], 70.0, 90.0, 45.0)).unwrap());
    let s = unit(net.embed(&stripes(3)).unwrap());
    assert!(cosine(&a, &b) > cosine(&a, &s) + 0.05, "disc~disc {} disc~stripes {}", cosine(&a, &b), cosine(&a, &s));
    let s2 = unit(net.embed(&stripes(5)).unwrap());
    assert!(cosine(&s, &s2) > cosine(&s, &b) + 0.05);
}

#[test]
fn a_damaged_weights_file_is_an_error_not_a_panic() {
    let Some(path) = weights() else { return };
    let bytes = std::fs::read(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, damaged) in [("half", &bytes[..bytes.len() / 2]), ("head", &bytes[..4000]), ("none", &bytes[..0])] {
        let p = dir.path().join(name);
        std::fs::write(&p, damaged).unwrap();
        let e = Network::load(&p).err().unwrap_or_else(|| panic!("{name}: loaded"));
        assert!(matches!(e, ImageError::Model { .. }), "{name}: {e}");
    }
}
