"""Ranking peers on a `qid<TAB>label<TAB>feature…` set: LightGBM lambdarank (tuned on a
split of train by query: the last 20% of train's queries validate), a fixed hand-weighted
sum, popularity alone and random order. Prints one JSON line per peer: NDCG@5, NDCG@10 and
MAP on test (binary relevance; a query with no relevant item scores 1 in NDCG, as in
LightGBM, and 0 in MAP; every query counts).

Usage: peers.py --train train.tsv --test test.tsv
"""
import argparse
import itertools
import json
import time

import numpy as np


def read(path):
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
    m = np.loadtxt(path, skiprows=1, delimiter="\t", ndmin=2)
    return header[2:], m[:, 0].astype(np.int64), m[:, 1], m[:, 2:]


def groups(qid):
    _, starts, counts = np.unique(qid, return_index=True, return_counts=True)
    order = np.argsort(starts)
    return starts[order], counts[order]


def metrics(qid, label, score):
    starts, counts = groups(qid)
    out = {"ndcg@5": [], "ndcg@10": [], "map": []}
    for s, c in zip(starts, counts):
        lab, sc = label[s:s + c], score[s:s + c]
        order = np.argsort(-sc, kind="stable")
        ranked = lab[order]
        for k in (5, 10):
            disc = 1.0 / np.log2(np.arange(2, min(k, c) + 2))
            dcg = (ranked[:k] * disc).sum()
            ideal = (np.sort(lab)[::-1][:k] * disc).sum()
            # LightGBM's convention: a query with nothing relevant scores 1.
            out[f"ndcg@{k}"].append(dcg / ideal if ideal > 0 else 1.0)
        hits = np.cumsum(ranked)
        rel = ranked.sum()
        out["map"].append(((hits / np.arange(1, c + 1)) * ranked).sum() / rel if rel > 0 else 0.0)
    return {k: float(np.mean(v)) for k, v in out.items()} | {"queries": len(starts)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    a = ap.parse_args()
    names, q_tr, y_tr, X_tr = read(a.train)
    _, q_te, y_te, X_te = read(a.test)
    col = {n: j for j, n in enumerate(names)}

    rng = np.random.default_rng(42)
    print(json.dumps({"peer": "random", **metrics(q_te, y_te, rng.random(len(y_te)))}))
    print(json.dumps({"peer": "popularity", **metrics(q_te, y_te, X_te[:, col["log_popularity"]])}))
    mean, std = X_tr.mean(0), X_tr.std(0) + 1e-9
    weights = {"item_mean": 1.0, "knn_liked_affinity": 1.0, "log_popularity": 0.5, "genre_match": 0.5}
    w = np.zeros(len(names))
    for n, v in weights.items():
        w[col[n]] = v
    print(json.dumps({"peer": "hand-weighted", "weights": weights, **metrics(q_te, y_te, ((X_te - mean) / std) @ w)}))

    import lightgbm as lgb
    cut = np.quantile(np.unique(q_tr), 0.8)
    fit, val = q_tr <= cut, q_tr > cut
    best = None
    started = time.perf_counter()
    for leaves, lr, n in itertools.product([7, 15, 31], [0.03, 0.1], [100, 300]):
        params = dict(objective="lambdarank", num_leaves=leaves, learning_rate=lr, num_iterations=n,
                      min_data_in_leaf=20, verbose=-1, num_threads=1, seed=42)
        m = lgb.train(params, lgb.Dataset(X_tr[fit], y_tr[fit], group=groups(q_tr[fit])[1]))
        score = metrics(q_tr[val], y_tr[val], m.predict(X_tr[val]))["ndcg@10"]
        if best is None or score > best[0]:
            best = (score, params)
    tune = time.perf_counter() - started
    started = time.perf_counter()
    m = lgb.train(best[1], lgb.Dataset(X_tr, y_tr, group=groups(q_tr)[1]))
    train_seconds = time.perf_counter() - started
    print(json.dumps({"peer": "lightgbm-lambdarank", "params": {k: best[1][k] for k in
                      ("num_leaves", "learning_rate", "num_iterations")}, "validation_ndcg@10": best[0],
                      "tune_seconds": tune, "train_seconds": train_seconds, "lightgbm": lgb.__version__,
                      **metrics(q_te, y_te, m.predict(X_te))}))


if __name__ == "__main__":
    main()
