//! Shape: a histogram of oriented gradients (Dalal and Triggs) on the image
//! scaled to 64×64: 9 unsigned orientations per 16×16 cell, blocks of 2×2
//! cells normalised with L2-Hys, every block position (3×3): 324 values.

use image::GrayImage;

const SIDE: u32 = 64;
const CELL: usize = 16;
const ORIENTATIONS: usize = 9;
const CELLS: usize = SIDE as usize / CELL;
const BLOCKS: usize = CELLS - 1;
pub const DIM: usize = BLOCKS * BLOCKS * 4 * ORIENTATIONS;

pub fn histogram(grey: &GrayImage) -> Vec<f32> {
    let g = image::imageops::resize(grey, SIDE, SIDE, image::imageops::FilterType::Triangle);
    let n = SIDE as usize;
    let at = |x: usize, y: usize| f32::from(g.get_pixel(x as u32, y as u32)[0]);
    let mut cells = vec![0f32; CELLS * CELLS * ORIENTATIONS];
    for y in 0..n {
        for x in 0..n {
            // Centred differences; zero on the border, as the reference does.
            let gx = if x == 0 || x == n - 1 { 0.0 } else { at(x + 1, y) - at(x - 1, y) };
            let gy = if y == 0 || y == n - 1 { 0.0 } else { at(x, y + 1) - at(x, y - 1) };
            let magnitude = (gx * gx + gy * gy).sqrt();
            if magnitude == 0.0 {
                continue;
            }
            let angle = gy.atan2(gx).to_degrees().rem_euclid(180.0);
            let o = ((angle / 180.0 * ORIENTATIONS as f32) as usize).min(ORIENTATIONS - 1);
            cells[((y / CELL) * CELLS + x / CELL) * ORIENTATIONS + o] += magnitude;
        }
    }
    let mut out = Vec::with_capacity(DIM);
    for by in 0..BLOCKS {
        for bx in 0..BLOCKS {
            let mut block = Vec::with_capacity(4 * ORIENTATIONS);
            for (cy, cx) in [(by, bx), (by, bx + 1), (by + 1, bx), (by + 1, bx + 1)] {
                let c = (cy * CELLS + cx) * ORIENTATIONS;
                block.extend_from_slice(&cells[c..c + ORIENTATIONS]);
            }
            l2_hys(&mut block);
            out.extend(block);
        }
    }
    out
}

/// L2 normalisation, clipped at 0.2 and normalised again.
fn l2_hys(v: &mut [f32]) {
    normalise(v);
    v.iter_mut().for_each(|x| *x = x.min(0.2));
    normalise(v);
}

fn normalise(v: &mut [f32]) {
    let norm = (v.iter().map(|x| x * x).sum::<f32>() + 1e-10).sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
}
