//! Pictures for the demo market's goods: each category a shape and a colour
//! (a bicycle two wheels, a book a tall block, …), varied per offer in hue,
//! size and place, on a light ground with a little noise — made here, so
//! image search has something to find without shipping anyone's photos.

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage};
use rand::Rng;
use rand::rngs::StdRng;

const W: u32 = 160;
const H: u32 = 120;

/// The shape drawn for a category, and its base colour.
fn look(category: &str) -> Option<(Shape, [f32; 3])> {
    Some(match category {
        "bicycles" => (Shape::Wheels, [40.0, 90.0, 200.0]),
        "electronics" => (Shape::Screen, [40.0, 40.0, 48.0]),
        "furniture" => (Shape::Table, [140.0, 90.0, 50.0]),
        "books" => (Shape::Block, [190.0, 40.0, 40.0]),
        "clothing" => (Shape::Shirt, [200.0, 120.0, 170.0]),
        "tools" => (Shape::Hammer, [230.0, 170.0, 30.0]),
        "baby" => (Shape::Disc, [120.0, 200.0, 230.0]),
        "sports" => (Shape::Ring, [60.0, 170.0, 70.0]),
        // Services have no picture.
        _ => return None,
    })
}

#[derive(Clone, Copy)]
enum Shape {
    Wheels,
    Screen,
    Table,
    Block,
    Shirt,
    Hammer,
    Disc,
    Ring,
}

impl Shape {
    /// Whether (x, y), relative to the centre and scaled by `s`, is inside.
    fn covers(self, x: f32, y: f32, s: f32) -> bool {
        let (x, y) = (x / s, y / s);
        let disc = |cx: f32, cy: f32, r: f32| (x - cx).powi(2) + (y - cy).powi(2) < r * r;
        let rect = |x0: f32, y0: f32, x1: f32, y1: f32| x > x0 && x < x1 && y > y0 && y < y1;
        match self {
            Shape::Wheels => {
                let ring = |cx: f32| (18.0..24.0).contains(&((x - cx).powi(2) + y.powi(2)).sqrt());
                ring(-28.0) || ring(28.0) || rect(-28.0, -3.0, 28.0, 3.0)
            }
            Shape::Screen => rect(-40.0, -28.0, 40.0, 20.0) || rect(-6.0, 20.0, 6.0, 30.0),
            Shape::Table => {
                rect(-45.0, -20.0, 45.0, -12.0) || rect(-40.0, -12.0, -33.0, 30.0) || rect(33.0, -12.0, 40.0, 30.0)
            }
            Shape::Block => rect(-18.0, -32.0, 18.0, 32.0),
            Shape::Shirt => rect(-20.0, -25.0, 20.0, 30.0) || rect(-38.0, -25.0, 38.0, -10.0),
            Shape::Hammer => rect(-35.0, -20.0, 5.0, -6.0) || rect(-18.0, -6.0, -10.0, 35.0),
            Shape::Disc => disc(0.0, 0.0, 30.0),
            Shape::Ring => (20.0..32.0).contains(&(x * x + y * y).sqrt()),
        }
    }
}

/// A PNG of a good of `category`, or none for services.
pub fn picture(category: &str, rng: &mut StdRng) -> Option<Vec<u8>> {
    let (shape, base) = look(category)?;
    let colour: Vec<f32> = base.iter().map(|c| (c + rng.random_range(-25.0..25.0)).clamp(0.0, 255.0)).collect();
    let (cx, cy) = (W as f32 / 2.0 + rng.random_range(-12.0..12.0), H as f32 / 2.0 + rng.random_range(-8.0..8.0));
    let scale = rng.random_range(0.8..1.25);
    let ground = rng.random_range(225.0..250.0);
    let mut image = RgbImage::new(W, H);
    for (x, y, p) in image.enumerate_pixels_mut() {
        let noise = rng.random_range(-6.0..6.0);
        let c: [f32; 3] = if shape.covers(x as f32 - cx, y as f32 - cy, scale) {
            [colour[0], colour[1], colour[2]]
        } else {
            [ground; 3]
        };
        *p = Rgb(c.map(|v| (v + noise).clamp(0.0, 255.0) as u8));
    }
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).ok()?;
    Some(out.into_inner())
}
