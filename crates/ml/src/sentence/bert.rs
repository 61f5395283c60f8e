//! MiniLM-L6's forward pass: BERT's encoder (6 layers, 12 heads, 384 wide,
//! GELU, post-layer norm) over one sentence at a time, with candle's tensors
//! on the CPU, then the mean of the token vectors, unit length — what
//! sentence-transformers computes for all-MiniLM-L6-v2.
//!
//! Written here rather than taking `candle-transformers`: that crate
//! compiles a hundred model families to use one, and BERT's encoder is a few
//! matrix products per layer.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{D, Device, Tensor};

pub(crate) const HIDDEN: usize = 384;
const HEADS: usize = 12;
const HEAD_DIM: usize = HIDDEN / HEADS;
const LAYERS: usize = 6;
const INTERMEDIATE: usize = 1536;
const NORM_EPS: f64 = 1e-12;

type Result<T> = candle_core::Result<T>;

struct Linear {
    /// Transposed once at load: `x · weightᵀ` is then a plain product.
    weight_t: Tensor,
    bias: Tensor,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.matmul(&self.weight_t)?.broadcast_add(&self.bias)
    }
}

struct Norm {
    gamma: Tensor,
    beta: Tensor,
}

impl Norm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let centred = x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?;
        let variance = centred.sqr()?.mean_keepdim(D::Minus1)?;
        centred.broadcast_div(&(variance + NORM_EPS)?.sqrt()?)?.broadcast_mul(&self.gamma)?.broadcast_add(&self.beta)
    }
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    up: Linear,
    down: Linear,
    out_norm: Norm,
}

impl Layer {
    fn forward(&self, x: &Tensor, n: usize) -> Result<Tensor> {
        let heads = |t: Tensor| t.reshape((n, HEADS, HEAD_DIM))?.transpose(0, 1)?.contiguous();
        let (q, k, v) = (heads(self.query.forward(x)?)?, heads(self.key.forward(x)?)?, heads(self.value.forward(x)?)?);
        let scores = (q.matmul(&k.t()?.contiguous()?)? / (HEAD_DIM as f64).sqrt())?;
        let weights = softmax_last(&scores)?;
        let context = weights.matmul(&v)?.transpose(0, 1)?.contiguous()?.reshape((n, HIDDEN))?;
        let x = self.attention_norm.forward(&(self.attention_out.forward(&context)? + x)?)?;
        let h = self.up.forward(&x)?.gelu_erf()?;
        self.out_norm.forward(&(self.down.forward(&h)? + &x)?)
    }
}

fn softmax_last(x: &Tensor) -> Result<Tensor> {
    let e = x.broadcast_sub(&x.max_keepdim(D::Minus1)?)?.exp()?;
    e.broadcast_div(&e.sum_keepdim(D::Minus1)?)
}

pub(crate) struct Bert {
    words: Tensor,
    positions: Tensor,
    /// Token type 0's row: every token is of the one sentence.
    token_type: Tensor,
    norm: Norm,
    layers: Vec<Layer>,
}

struct Weights(HashMap<String, Tensor>);

impl Weights {
    fn take(&mut self, name: &str, shape: &[usize]) -> std::result::Result<Tensor, String> {
        let t = self.0.remove(name).ok_or_else(|| format!("missing tensor {name}"))?;
        if t.dims() != shape {
            return Err(format!("{name} is {:?}, not {shape:?}", t.dims()));
        }
        t.to_dtype(candle_core::DType::F32).map_err(|e| e.to_string())
    }

    fn linear(&mut self, name: &str, out: usize, input: usize) -> std::result::Result<Linear, String> {
        let weight = self.take(&format!("{name}.weight"), &[out, input])?;
        let weight_t = weight.t().and_then(|w| w.contiguous()).map_err(|e| e.to_string())?;
        Ok(Linear { weight_t, bias: self.take(&format!("{name}.bias"), &[out])? })
    }

    fn norm(&mut self, name: &str) -> std::result::Result<Norm, String> {
        Ok(Norm {
            gamma: self.take(&format!("{name}.weight"), &[HIDDEN])?,
            beta: self.take(&format!("{name}.bias"), &[HIDDEN])?,
        })
    }
}

impl Bert {
    /// The weights of a `model.safetensors` with `vocabulary` pieces.
    pub(crate) fn load(path: &Path, vocabulary: usize) -> std::result::Result<Self, String> {
        let mut w = Weights(candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| e.to_string())?);
        let words = w.take("embeddings.word_embeddings.weight", &[vocabulary, HIDDEN])?;
        let positions = w.take("embeddings.position_embeddings.weight", &[512, HIDDEN])?;
        let token_type = w.take("embeddings.token_type_embeddings.weight", &[2, HIDDEN])?;
        let token_type = token_type.narrow(0, 0, 1).map_err(|e| e.to_string())?;
        let norm = w.norm("embeddings.LayerNorm")?;
        let layers = (0..LAYERS)
            .map(|l| {
                let p = format!("encoder.layer.{l}");
                Ok(Layer {
                    query: w.linear(&format!("{p}.attention.self.query"), HIDDEN, HIDDEN)?,
                    key: w.linear(&format!("{p}.attention.self.key"), HIDDEN, HIDDEN)?,
                    value: w.linear(&format!("{p}.attention.self.value"), HIDDEN, HIDDEN)?,
                    attention_out: w.linear(&format!("{p}.attention.output.dense"), HIDDEN, HIDDEN)?,
                    attention_norm: w.norm(&format!("{p}.attention.output.LayerNorm"))?,
                    up: w.linear(&format!("{p}.intermediate.dense"), INTERMEDIATE, HIDDEN)?,
                    down: w.linear(&format!("{p}.output.dense"), HIDDEN, INTERMEDIATE)?,
                    out_norm: w.norm(&format!("{p}.output.LayerNorm"))?,
                })
            })
            .collect::<std::result::Result<_, String>>()?;
        Ok(Self { words, positions, token_type, norm, layers })
    }

    /// The most tokens a sentence may have (the position table's length).
    pub(crate) fn max_tokens(&self) -> usize {
        self.positions.dims()[0]
    }

    /// The unit-length mean of the encoder's token vectors for `ids`.
    pub(crate) fn embed(&self, ids: &[u32]) -> Result<Vec<f32>> {
        let n = ids.len();
        let ids = Tensor::new(ids, &Device::Cpu)?;
        let x =
            (self.words.index_select(&ids, 0)? + self.positions.narrow(0, 0, n)?)?.broadcast_add(&self.token_type)?;
        let mut x = self.norm.forward(&x)?;
        for layer in &self.layers {
            x = layer.forward(&x, n)?;
        }
        let mean = x.mean(0)?;
        let length = mean.sqr()?.sum_all()?.sqrt()?;
        mean.broadcast_div(&length)?.to_vec1::<f32>()
    }
}
