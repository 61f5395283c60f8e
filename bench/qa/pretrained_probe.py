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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sentence_reference import embed as bert_embed  # noqa: E402


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


def m3e_embed(w, ids):
    # m3e-small is a BERT like all-MiniLM-L6-v2, smaller: the same forward pass.
    return bert_embed(w, ids, layers=4, heads=8, width=512)


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
