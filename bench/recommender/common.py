"""Shared data loading, validation split and metrics for the recommender bench.

Protocol (same as wantloop's eval.rs / metrics.rs): items are indexed from the
training file; test items never seen in train are dropped (they cannot be
ranked); every item the user has no train interaction with is ranked; metrics
over users with >= 1 (rankable) test item: P@k = hits/k, R@k = hits/|test|,
NDCG@k with binary relevance and IDCG over min(k, |test|).
"""
import numpy as np
import scipy.sparse as sp


def read_pairs(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            u, i = line.split("\t")[:2]
            out.append((u, i))
    return out


class Data:
    def __init__(self, train_path, test_path):
        tr = read_pairs(train_path)
        te = read_pairs(test_path)
        self.users = {}
        self.items = {}
        for u, i in tr:
            self.users.setdefault(u, len(self.users))
            self.items.setdefault(i, len(self.items))
        self.n_users, self.n_items = len(self.users), len(self.items)
        hist = [set() for _ in range(self.n_users)]
        for u, i in tr:
            hist[self.users[u]].add(self.items[i])
        self.train = [np.array(sorted(h), dtype=np.int64) for h in hist]
        test = [set() for _ in range(self.n_users)]
        self.dropped = 0
        for u, i in te:
            if u in self.users and i in self.items:
                test[self.users[u]].add(self.items[i])
            else:
                self.dropped += 1
        self.test = [np.array(sorted(h - hist[k]), dtype=np.int64) for k, h in enumerate(test)]


def to_csr(hists, n_items):
    rows = np.concatenate([np.full(len(h), u, dtype=np.int64) for u, h in enumerate(hists)])
    cols = np.concatenate(hists)
    return sp.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)),
                         shape=(len(hists), n_items))


def split_validation(hists, share=0.2, seed=42):
    """Per user with >= 2 items: a seeded round(share*n) clamped to [1, n-1]
    of the items move to validation."""
    rng = np.random.default_rng(seed)
    fit, val = [], []
    for h in hists:
        if len(h) < 2:
            fit.append(h.copy())
            val.append(np.array([], dtype=np.int64))
            continue
        take = int(min(max(round(len(h) * share), 1), len(h) - 1))
        perm = rng.permutation(len(h))
        held = np.sort(h[perm[:take]])
        fit.append(np.sort(h[perm[take:]]))
        val.append(held)
    return fit, val


def sample_users(hists, limit, seed):
    """At most `limit` users with items, seeded (wantloop's validation does the same)."""
    users = np.array([u for u, h in enumerate(hists) if len(h)], dtype=np.int64)
    if len(users) <= limit:
        return users
    return np.sort(np.random.default_rng(seed).choice(users, limit, replace=False))


def evaluate(scorer, train_hists, test_hists, k=10, users=None, batch=512):
    """scorer(rows) -> dense (len(rows) x n_items) scores; train items are excluded.
    Scores users with test items (or `users`) in batches, so memory stays bounded."""
    if users is None:
        users = np.array([u for u, h in enumerate(test_hists) if len(h)], dtype=np.int64)
    P = R = N = 0.0
    count = 0
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    for start in range(0, len(users), batch):
        rows = users[start:start + batch]
        S = np.array(scorer(rows), dtype=np.float64, copy=True)
        for r, u in enumerate(rows):
            rel = test_hists[u]
            if len(rel) == 0:
                continue
            s = S[r]
            s[train_hists[u]] = -np.inf
            top = np.argpartition(-s, k)[:k]
            top = top[np.argsort(-s[top], kind="stable")]
            hit = np.isin(top, rel)
            h = hit.sum()
            P += h / k
            R += h / len(rel)
            N += (hit * disc).sum() / disc[:min(k, len(rel))].sum()
            count += 1
    return {"precision@10": P / count, "recall@10": R / count, "ndcg@10": N / count, "users": count}
