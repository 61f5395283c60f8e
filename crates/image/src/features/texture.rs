//! Texture: uniform local binary patterns (8 neighbours at radius 1; the
//! 58 patterns with at most two 0/1 transitions are told apart by their
//! count of ones, the rest share one bin: 10 bins), histogrammed in each
//! quarter of the image and square-rooted.

use image::GrayImage;

const BINS: usize = 10;
const GRID: usize = 2;
pub const DIM: usize = BINS * GRID * GRID;

/// The eight neighbours in circular order.
const RING: [(i32, i32); 8] = [(0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1)];

fn code(grey: &GrayImage, x: u32, y: u32) -> usize {
    let (w, h) = grey.dimensions();
    let centre = grey.get_pixel(x, y)[0];
    let mut bits = [false; 8];
    for (k, (dx, dy)) in RING.iter().enumerate() {
        // Borders repeat the edge pixel.
        let nx = (x as i32 + dx).clamp(0, w as i32 - 1) as u32;
        let ny = (y as i32 + dy).clamp(0, h as i32 - 1) as u32;
        bits[k] = grey.get_pixel(nx, ny)[0] >= centre;
    }
    let transitions = (0..8).filter(|&k| bits[k] != bits[(k + 1) % 8]).count();
    if transitions <= 2 { bits.iter().filter(|b| **b).count() } else { BINS - 1 }
}

pub fn histogram(grey: &GrayImage) -> Vec<f32> {
    let (w, h) = grey.dimensions();
    let mut hist = vec![0f32; DIM];
    for y in 0..h {
        for x in 0..w {
            let cell = (y as usize * GRID / h as usize) * GRID + x as usize * GRID / w as usize;
            hist[cell * BINS + code(grey, x, y)] += 1.0;
        }
    }
    hist.iter_mut().for_each(|x| *x = x.sqrt());
    hist
}
