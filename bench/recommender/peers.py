"""Peer recommenders on wantloop's recommender protocol, one JSON line each.

Same files, same protocol and metric code as bench/recommender/common.py
(mirrors crates/ml/src/recommender/{eval,metrics}.rs): hyper-parameters are
chosen by NDCG@10 on a seeded 20% per-user validation split carved from train
(numpy RNG, so not the identical rows Rust's StdRng picks), then the model is
refit on all of train and scored on test. fit_seconds times the final fit only,
single thread (OPENBLAS_NUM_THREADS=1, num_threads=1, implicit's CPU classes).

Grids:
  implicit ALS : factors {32, 64} x regularization {1, 10, 20} x alpha {1, 2, 4}, 15 iterations
  implicit BPR : factors {32, 64} x learning_rate {0.01, 0.05} x regularization {0.001, 0.01}, 100 iterations
  implicit item-kNN (CosineRecommender) : K {20, 50, 100, 200}
  EASE (numpy) : lambda {100, 400, 1600, 6400} (up to 12,000 items)
  popularity   : none
Validation scores at most 3,000 seeded users, as wantloop's does.
Usage: peers.py --train TRAIN --test TEST [--seed 42] [--only NAME ...] [--small-grids]
"""
import os
for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"
import argparse, itertools, json, resource, sys, time, warnings
warnings.filterwarnings("ignore", message="Method expects CSR input")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
import scipy.sparse as sp
import implicit
import implicit.gpu
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit.nearest_neighbours import CosineRecommender
import common as c

try:
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
except ImportError:
    pass


def dense(X):
    return np.asarray(X.todense(), dtype=np.float64)


class Peer:
    def __init__(self, name, grid, make, max_items=None):
        self.name, self.grid, self.make, self.max_items = name, grid, make, max_items


# Each fit returns scorer(rows) -> dense scores of those users for every item.
def als_fit(X, p):
    m = AlternatingLeastSquares(factors=p["factors"], regularization=p["regularization"], alpha=p["alpha"],
                                iterations=15, random_state=42, num_threads=1)
    m.fit(X, show_progress=False)
    U, V = np.asarray(m.user_factors), np.asarray(m.item_factors)
    return lambda rows: U[rows] @ V.T


def bpr_fit(X, p):
    m = BayesianPersonalizedRanking(factors=p["factors"], learning_rate=p["learning_rate"],
                                    regularization=p["regularization"], iterations=100, random_state=42,
                                    num_threads=1)
    m.fit(X, show_progress=False)
    U, V = np.asarray(m.user_factors), np.asarray(m.item_factors)
    return lambda rows: U[rows] @ V.T


def knn_fit(X, p):
    m = CosineRecommender(K=p["K"], num_threads=1)
    m.fit(X, show_progress=False)
    sim = m.similarity.tocsr()
    return lambda rows: dense(X[rows] @ sim)


def ease_fit(X, p):
    G = dense(X.T @ X)
    G[np.diag_indices_from(G)] += p["lambda"]
    P = np.linalg.inv(G)
    B = -P / np.diag(P)
    np.fill_diagonal(B, 0)
    return lambda rows: dense(X[rows]) @ B


def pop_fit(X, p):
    pop = np.asarray(X.sum(0)).ravel().astype(np.float64)
    return lambda rows: np.tile(pop, (len(rows), 1))


def grid(**axes):
    keys = list(axes)
    return [dict(zip(keys, vals)) for vals in itertools.product(*axes.values())]


PEERS = [
    Peer("implicit-als", grid(factors=[32, 64], regularization=[1.0, 10.0, 20.0], alpha=[1.0, 2.0, 4.0]), als_fit),
    Peer("implicit-bpr", grid(factors=[32, 64], learning_rate=[0.01, 0.05], regularization=[0.001, 0.01]), bpr_fit),
    Peer("implicit-itemknn-cosine", grid(K=[20, 50, 100, 200]), knn_fit),
    # Dense items x items inverse: beyond ~12,000 items it needs more than 1 GB per copy and minutes.
    Peer("numpy-ease", grid(**{"lambda": [100.0, 400.0, 1600.0, 6400.0]}), ease_fit, max_items=12_000),
    Peer("popularity", [{}], pop_fit),
]
# On the largest catalogues the single-threaded peers get the middle of their grids only.
SMALL_GRIDS = {
    "implicit-als": grid(factors=[64], regularization=[10.0], alpha=[1.0, 4.0]),
    "implicit-itemknn-cosine": grid(K=[50, 200]),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--small-grids", action="store_true", help="the middle of each grid (largest catalogues)")
    a = ap.parse_args()
    d = c.Data(a.train, a.test)
    fit_h, val_h = c.split_validation(d.train, 0.2, a.seed)
    val_users = c.sample_users(val_h, 3000, a.seed)
    X_fit, X_all = c.to_csr(fit_h, d.n_items), c.to_csr(d.train, d.n_items)
    for peer in PEERS:
        if a.only and peer.name not in a.only:
            continue
        if peer.max_items and d.n_items > peer.max_items:
            print(json.dumps({"peer": peer.name, "skipped": f"{d.n_items} items > {peer.max_items}"}), flush=True)
            continue
        peer_grid = SMALL_GRIDS.get(peer.name, peer.grid) if a.small_grids else peer.grid
        t0 = time.perf_counter()
        best = None
        for p in peer_grid:
            r = c.evaluate(peer.make(X_fit, p), fit_h, val_h, users=val_users)
            if best is None or r["ndcg@10"] > best[1]["ndcg@10"]:
                best = (p, r)
        tune = time.perf_counter() - t0
        t = time.perf_counter()
        scorer = peer.make(X_all, best[0])
        fit_seconds = time.perf_counter() - t
        r = c.evaluate(scorer, d.train, d.test)
        print(json.dumps({"peer": peer.name, "precision@10": r["precision@10"], "recall@10": r["recall@10"],
                          "ndcg@10": r["ndcg@10"], "fit_seconds": fit_seconds, "params": best[0],
                          "validation_ndcg@10": best[1]["ndcg@10"], "tune_seconds": tune, "users": r["users"],
                          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          "threads": 1, "gpu": False, "implicit": implicit.__version__,
                          "implicit_has_cuda": bool(implicit.gpu.HAS_CUDA)}), flush=True)


if __name__ == "__main__":
    main()
