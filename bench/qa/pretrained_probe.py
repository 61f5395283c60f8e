#!/usr/bin/env python3
"""The Python side of pretrained_probe.sh: m3e-small's forward pass in NumPy
(BERT, 4 layers, 512 wide, mean of the token vectors; weights read from the
PyTorch file without PyTorch), then retrieval on BQ's test sentences by BM25
over characters and bigrams, by each model's cosine alone, and by
(1 - w) * BM25 / its maximum + w * cosine. Retrieval: each positive pair's
sentence1 queries every distinct sentence but itself; top-1 with gold = any
sentence paired positively with it, and with gold = the pair's sentence2."""
import collections
import math
import os
import pickle
import sys
import zipfile

import numpy as np
from tokenizers import Tokenizer


def load_torch(path):
    z = zipfile.ZipFile(path)
    root = z.namelist()[0].split("/")[0]

    def rebuild(storage, offset, size, stride, *_):
        data = np.frombuffer(z.read(f"{root}/data/{storage}"), dtype=np.float32)
        view = np.lib.stride_tricks.as_strided(data[offset:], shape=tuple(size), strides=tuple(4 * s for s in stride))
        return np.array(view)

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if name == "_rebuild_tensor_v2":
                return rebuild
            if name == "OrderedDict":
                return collections.OrderedDict
            if name.endswith("Storage"):
                return name
            return super().find_class(module, name)

        def persistent_load(self, pid):
            return pid[2]  # the storage's key: its file under data/

    weights = Unpickler(z.open(f"{root}/data.pkl")).load()
    return {k.removeprefix("bert."): v for k, v in weights.items()}


def layer_norm(x, g, b):
    m = x.mean(-1, keepdims=True)
    return (x - m) / np.sqrt(((x - m) ** 2).mean(-1, keepdims=True) + 1e-12) * g + b


def gelu(h):
    # erf by Abramowitz and Stegun 7.1.26 (error below 1.5e-7): NumPy has none.
    x = h / np.sqrt(2)
    s, a = np.sign(x), np.abs(x)
    t = 1 / (1 + 0.3275911 * a)
    poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
    return 0.5 * h * (1 + s * (1 - poly * np.exp(-a * a)))


def m3e_embed(w, ids, layers=4, heads=8, width=512):
    n, d = len(ids), width // heads
    p = "embeddings."
    x = w[p + "word_embeddings.weight"][ids] + w[p + "position_embeddings.weight"][:n]
    x = layer_norm(x + w[p + "token_type_embeddings.weight"][0], w[p + "LayerNorm.weight"], w[p + "LayerNorm.bias"])
    for layer in range(layers):
        p = f"encoder.layer.{layer}."

        def linear(name, h):
            return h @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        q, k, v = (linear(f"attention.self.{m}", x).reshape(n, heads, d).transpose(1, 0, 2) for m in ("query", "key", "value"))
        a = q @ k.transpose(0, 2, 1) / np.sqrt(d)
        a = np.exp(a - a.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        c = (a @ v).transpose(1, 0, 2).reshape(n, width)
        x = layer_norm(linear("attention.output.dense", c) + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        x = layer_norm(linear("output.dense", gelu(linear("intermediate.dense", x))) + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    e = x.mean(0)
    return e / np.linalg.norm(e)


def main(m3e_dir):
    sentences = open("sentences.txt", encoding="utf-8").read().split("\n")[:-1]
    pairs = [tuple(map(int, line.split())) for line in open("pairs.txt")]
    if not os.path.exists("m3e.bin"):
        w = load_torch(f"{m3e_dir}/pytorch_model.bin")
        tok = Tokenizer.from_file(f"{m3e_dir}/tokenizer.json")
        tok.no_padding()
        np.stack([m3e_embed(w, tok.encode(s).ids[:128]) for s in sentences]).astype(np.float32).tofile("m3e.bin")
    vectors = {name: np.fromfile(f"{name}.bin", dtype=np.float32).reshape(len(sentences), -1) for name in ("e5", "m3e")}

    docs = [list(s) + [s[i:i + 2] for i in range(len(s) - 1)] for s in sentences]
    n, avg = len(docs), sum(map(len, docs)) / len(docs)
    df = collections.Counter(t for d in docs for t in set(d))
    postings = collections.defaultdict(list)
    for j, d in enumerate(docs):
        for t, f in collections.Counter(d).items():
            idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
            postings[t].append((j, idf * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * len(d) / avg))))
    partners = collections.defaultdict(set)
    for a, b, label in pairs:
        if label:
            partners[a].add(b)
            partners[b].add(a)
    queries = [(a, b) for a, b, label in pairs if label]
    weights = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    hits = {(m, w): [0, 0] for m in vectors for w in weights}
    for a, b in queries:
        bm = np.zeros(n)
        for t in set(docs[a]):
            for j, s in postings[t]:
                bm[j] += s
        bm /= max(bm.max(), 1e-9)
        for m, v in vectors.items():
            cos = v @ v[a]
            for w in weights:
                s = (1 - w) * bm + w * cos
                s[a] = -np.inf
                top = int(s.argmax())
                hits[(m, w)][0] += top in partners[a]
                hits[(m, w)][1] += top == b
    print(f"{len(queries)} queries over {n} sentences; top-1 (gold any partner / gold sentence2)")
    for (m, w), (anyp, own) in hits.items():
        label = "BM25 alone" if w == 0 else (f"{m} alone" if w == 1 else f"{m} fused, w = {w}")
        if w > 0 or m == "e5":
            print(f"{label:<22} {anyp / len(queries):.4f} / {own / len(queries):.4f}")


if __name__ == "__main__":
    main(sys.argv[1])
