"""Task-1 recipe: EASE-EDLAE + exact implicit ALS, raw-score blend, every
hyper-parameter chosen on the validation split carved from train only.

  stage 1  EDLAE   lambda in {100,200,400,800} x p in {0,.15,.3,.45}      (best val NDCG@10)
  stage 2  ALS     k=32, alpha in {1,2,3,5} x reg in {10,20,30,45} x iters in {8,15}
  stage 3  blend   s = (1-w) * X B + w * U V^T,  w in {0,.1,...,1}
then refit both on all of train with the chosen settings and report test.
Usage: recipe.py TRAIN TEST [split-seed ...]
"""
import os, sys, time, json
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
import common as c


def dense(hists, n_items):
    X = np.zeros((len(hists), n_items))
    for u, h in enumerate(hists):
        X[u, h] = 1
    return X


def edlae(X, lam, p):
    G = X.T @ X
    dg = np.diag(G).copy()
    G[np.diag_indices_from(G)] += lam + p / (1 - p) * dg
    P = np.linalg.inv(G)
    B = -P / np.diag(P)
    np.fill_diagonal(B, 0)
    return X @ B


def als(X, k, reg, alpha, iters, seed=0):
    """Hu-Koren-Volinsky: confidence 1+alpha on observed (target 1), 1 elsewhere
    (target 0); exact k x k solves; users solved first; items init U(0, 0.01)."""
    rng = np.random.default_rng(seed)
    nu, ni = X.shape
    rows = [np.nonzero(X[u])[0] for u in range(nu)]
    cols = [np.nonzero(X[:, i])[0] for i in range(ni)]
    Y = rng.random((ni, k)) * 0.01
    U = np.zeros((nu, k))

    def half(F, lists):
        FtF = F.T @ F
        A = np.empty((len(lists), k, k))
        b = np.empty((len(lists), k))
        for r, h in enumerate(lists):
            Fh = F[h]
            A[r] = FtF + alpha * (Fh.T @ Fh)
            b[r] = (1 + alpha) * Fh.sum(0)
        A[:, np.arange(k), np.arange(k)] += reg
        return np.linalg.solve(A, b[..., None])[..., 0]

    for _ in range(iters):
        U = half(Y, rows)
        Y = half(U, cols)
    return U @ Y.T


EASE_GRID = [(l, p) for l in (100, 200, 400, 800) for p in (0.0, 0.15, 0.3, 0.45)]
ALS_GRID = [(32, r, a, it) for a in (1, 2, 3, 5) for r in (10, 20, 30, 45) for it in (8, 15)]
W_GRID = [round(0.1 * i, 1) for i in range(11)]


def select(d, seed, als_seed=0):
    fit, val = c.split_validation(d.train, 0.2, seed)
    X = dense(fit, d.n_items)
    ev = lambda S: c.evaluate(S, fit, val)
    e_best = max(((ev(edlae(X, l, p))["ndcg@10"], (l, p)) for l, p in EASE_GRID))
    a_best = max(((ev(als(X, *g, seed=als_seed))["ndcg@10"], g) for g in ALS_GRID))
    SE, SA = edlae(X, *e_best[1]), als(X, *a_best[1], seed=als_seed)
    w_best = max(((ev((1 - w) * SE + w * SA)["ndcg@10"], w) for w in W_GRID))
    rep = ev((1 - w_best[1]) * SE + w_best[1] * SA)
    return e_best, a_best, w_best, rep


def final(d, ease_p, als_p, w, als_seed=0):
    X = dense(d.train, d.n_items)
    t = time.perf_counter()
    S = (1 - w) * edlae(X, *ease_p) + w * als(X, *als_p, seed=als_seed)
    secs = time.perf_counter() - t
    return c.evaluate(S, d.train, d.test), secs


if __name__ == "__main__":
    d = c.Data(sys.argv[1], sys.argv[2])
    seeds = [int(s) for s in sys.argv[3:]] or [42]
    for seed in seeds:
        e, a, w, rep = select(d, seed)
        test, secs = final(d, e[1], a[1], w[1])
        print(json.dumps({"split_seed": seed, "ease": {"lambda": e[1][0], "p": e[1][1], "val_ndcg": round(e[0], 4)},
                          "als": {"factors": a[1][0], "reg": a[1][1], "alpha": a[1][2], "iters": a[1][3], "val_ndcg": round(a[0], 4)},
                          "w_als": w[1], "val": {k: round(v, 4) for k, v in rep.items() if k != "users"},
                          "test": {k: round(v, 4) for k, v in test.items() if k != "users"},
                          "final_fit_seconds_numpy": round(secs, 2)}), flush=True)
