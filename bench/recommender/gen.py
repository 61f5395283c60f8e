"""Synthetic implicit-feedback catalogues for the recommender's cost and quality curves.

Each user has a mixture over `topics` latent tastes (Dirichlet 0.2), each item a main topic
and a Zipf popularity (exponent `zipf`); a user's number of items is log-normal with a floor
of 20, and its items are drawn without replacement with probability proportional to
popularity x taste affinity. The result has the long tail and the taste structure of
real rating logs (MovieLens-like), so model families rank differently on it, unlike on
uniform noise. Writes `train.tsv` and `test.tsv` (`user<TAB>item`, a per-user random 80/20;
with --test-users N only N random users have a test part, the rest train only).

Usage: gen.py --users U --items N --interactions M --out DIR [--seed S] [--topics T] [--test-users N]
"""
import argparse
import os

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--items", type=int, required=True)
    ap.add_argument("--interactions", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--topics", type=int, default=40)
    ap.add_argument("--zipf", type=float, default=0.9)
    ap.add_argument("--test-users", type=int, default=0,
                    help="only this many random users get a test part (0: all); bounds evaluation on huge data")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    n, t = a.items, a.topics
    popularity = 1.0 / np.arange(1, n + 1) ** a.zipf
    rng.shuffle(popularity)
    main_topic = rng.integers(0, t, n)
    by_topic = [np.flatnonzero(main_topic == k) for k in range(t)]
    cdf_topic = [np.cumsum(popularity[idx]) / popularity[idx].sum() for idx in by_topic]
    cdf_all = np.cumsum(popularity) / popularity.sum()
    mean = a.interactions / a.users
    sizes = np.maximum(20, rng.lognormal(np.log(mean) - 0.5, 1.0, a.users))
    sizes = np.minimum(sizes * (a.interactions / sizes.sum()), n // 4).astype(np.int64)
    tested = np.ones(a.users, dtype=bool)
    if 0 < a.test_users < a.users:
        tested[:] = False
        tested[rng.choice(a.users, a.test_users, replace=False)] = True
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "train.tsv"), "w") as tr, open(os.path.join(a.out, "test.tsv"), "w") as te:
        for u in range(a.users):
            taste = rng.dirichlet(np.full(t, 0.2))
            k = int(max(2, sizes[u]))
            picked = np.empty(0, dtype=np.int64)
            # Draws with replacement until k distinct items: 90% follow the user's
            # tastes (a topic, then an item of it by popularity), 10% plain popularity.
            while len(picked) < k:
                m = 2 * (k - len(picked)) + 8
                topics = rng.choice(t, m, p=taste)
                draws = np.empty(m, dtype=np.int64)
                for topic in np.unique(topics):
                    sel = topics == topic
                    pos = np.searchsorted(cdf_topic[topic], rng.random(sel.sum()))
                    draws[sel] = by_topic[topic][np.minimum(pos, len(by_topic[topic]) - 1)]
                plain = rng.random(m) < 0.1
                draws[plain] = np.minimum(np.searchsorted(cdf_all, rng.random(plain.sum())), n - 1)
                picked = np.unique(np.concatenate([picked, draws]))
            picked = rng.permutation(picked)[:k]
            cut = max(1, int(round(0.8 * k))) if tested[u] else k
            tr.write("".join(f"u{u}\ti{i}\n" for i in picked[:cut]))
            te.write("".join(f"u{u}\ti{i}\n" for i in picked[cut:]))

if __name__ == "__main__":
    main()
