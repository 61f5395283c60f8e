"""A learning-to-rank set from MovieLens-100K, split by time (the protocol of issue 13).

T80 = 80th percentile of all timestamps. Test: labels are ratings at or after T80, features
from ratings before T80. Train: labels are ratings in [T60, T80), T60 = 75th percentile of the
timestamps before T80, features from ratings before T60. One query per (user, genre) of the
label period; its candidates are that genre's movies the user rated in the label period
(queries with fewer than two dropped); label = rating >= 4.

Features (all from the feature period only, so nothing of the label period leaks in):
  log_popularity      log(1 + ratings of the movie)
  item_mean           the movie's mean rating, shrunk to the global mean (10 pseudo-ratings)
  item_liked_share    share of the movie's ratings >= 4, shrunk likewise
  genre_match         the user's share of ratings in the query's genre
  top_genre_match     1 if the movie has one of the user's three most rated genres
  user_mean           the user's mean rating, shrunk to the global mean
  user_count          log(1 + the user's ratings)
  knn_affinity        mean cosine (co-rating) similarity of the movie to the user's movies
  knn_liked_affinity  the same over the user's movies rated >= 4
  release_year        the movie's release year (0 when unknown)
  recent_popularity   log(1 + the movie's ratings in the last 10% of the feature period)

Writes train.tsv and test.tsv: `qid<TAB>label<TAB>feature…` with a header line.
Usage: make_set.py --data DIR/movielens-100k --out DIR
"""
import argparse
import os

import numpy as np

FEATURES = ["log_popularity", "item_mean", "item_liked_share", "genre_match", "top_genre_match", "user_mean",
            "user_count", "knn_affinity", "knn_liked_affinity", "release_year", "recent_popularity"]


def load(data):
    r = np.loadtxt(os.path.join(data, "u.data"), dtype=np.int64)
    users, items, ratings, times = r[:, 0], r[:, 1], r[:, 2], r[:, 3]
    n_items = items.max() + 1
    genres = np.zeros((n_items, 19), dtype=bool)
    year = np.zeros(n_items)
    with open(os.path.join(data, "u.item"), encoding="latin-1") as f:
        for line in f:
            p = line.rstrip("\n").split("|")
            i = int(p[0])
            genres[i] = [c == "1" for c in p[5:24]]
            year[i] = int(p[2][-4:]) if p[2] else 0
    return users, items, ratings, times, genres, year


def features(users, items, ratings, times, genres, year, cutoff, n_users, n_items):
    """Per-user and per-item statistics from the ratings before `cutoff`."""
    h = times < cutoff
    u, i, r, t = users[h], items[h], ratings[h], times[h]
    mu = r.mean()
    cnt_i = np.bincount(i, minlength=n_items).astype(float)
    sum_i = np.bincount(i, weights=r, minlength=n_items)
    liked_i = np.bincount(i, weights=(r >= 4), minlength=n_items)
    cnt_u = np.bincount(u, minlength=n_users).astype(float)
    sum_u = np.bincount(u, weights=r, minlength=n_users)
    recent = t >= np.quantile(t, 0.9)
    recent_i = np.bincount(i[recent], minlength=n_items)
    user_genre = np.zeros((n_users, 19))
    np.add.at(user_genre, u, genres[i])
    X = np.zeros((n_users, n_items), dtype=np.float32)
    X[u, i] = 1.0
    L = np.zeros((n_users, n_items), dtype=np.float32)
    L[u[r >= 4], i[r >= 4]] = 1.0
    norms = np.sqrt(X.sum(0)) + 1e-9
    sim = (X.T @ X) / np.outer(norms, norms)
    np.fill_diagonal(sim, 0.0)
    return {
        "mu": mu,
        "log_popularity": np.log1p(cnt_i),
        "item_mean": (sum_i + 10 * mu) / (cnt_i + 10),
        "item_liked_share": (liked_i + 10 * (r >= 4).mean()) / (cnt_i + 10),
        "user_mean": (sum_u + 10 * mu) / (cnt_u + 10),
        "user_count": np.log1p(cnt_u),
        "user_genre": user_genre,
        "affinity": (X @ sim) / np.maximum(X.sum(1, keepdims=True), 1),
        "liked_affinity": (L @ sim) / np.maximum(L.sum(1, keepdims=True), 1),
        "recent_popularity": np.log1p(recent_i),
    }


def queries(users, items, ratings, times, genres, year, lo, hi, f):
    rows = []
    label_period = (times >= lo) & (times < hi)
    by_user = {}
    for u, i, r in zip(users[label_period], items[label_period], ratings[label_period]):
        by_user.setdefault(u, {})[i] = r
    qid = 0
    for u in sorted(by_user):
        rated = by_user[u]
        share = f["user_genre"][u] / max(f["user_genre"][u].sum(), 1)
        top = set(np.argsort(-f["user_genre"][u])[:3]) if f["user_genre"][u].sum() else set()
        for g in range(19):
            cand = sorted(i for i in rated if genres[i, g])
            if len(cand) < 2:
                continue
            qid += 1
            for i in cand:
                rows.append([qid, int(rated[i] >= 4),
                             f["log_popularity"][i], f["item_mean"][i], f["item_liked_share"][i], share[g],
                             float(bool(top & set(np.flatnonzero(genres[i]))) ), f["user_mean"][u],
                             f["user_count"][u], f["affinity"][u, i], f["liked_affinity"][u, i], year[i],
                             f["recent_popularity"][i]])
    return rows


def write(path, rows):
    with open(path, "w") as out:
        out.write("qid\tlabel\t" + "\t".join(FEATURES) + "\n")
        for row in rows:
            out.write(f"{row[0]}\t{row[1]}\t" + "\t".join(f"{v:.6g}" for v in row[2:]) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    users, items, ratings, times, genres, year = load(a.data)
    n_users, n_items = users.max() + 1, items.max() + 1
    t80 = np.quantile(times, 0.8)
    t60 = np.quantile(times[times < t80], 0.75)
    os.makedirs(a.out, exist_ok=True)
    for name, lo, hi in [("train", t60, t80), ("test", t80, np.inf)]:
        f = features(users, items, ratings, times, genres, year, lo, n_users, n_items)
        rows = queries(users, items, ratings, times, genres, year, lo, hi, f)
        write(os.path.join(a.out, f"{name}.tsv"), rows)
        labels = np.array([r[1] for r in rows])
        print(f"{name}: {rows[-1][0]} queries, {len(rows)} rows, positive rate {labels.mean():.3f}")


if __name__ == "__main__":
    main()
