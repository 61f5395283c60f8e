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

Standard library only, so CI runs it with a bare python3. Everything is computed in Python
floats (double precision) in a fixed order, and ties are broken explicitly, so the output does
not depend on the machine.
"""
import argparse
import functools
import math
import os

FEATURES = ["log_popularity", "item_mean", "item_liked_share", "genre_match", "top_genre_match", "user_mean",
            "user_count", "knn_affinity", "knn_liked_affinity", "release_year", "recent_popularity"]
N_GENRES = 19
# number of set bits of an int (int.bit_count is Python 3.10+)
popcount = getattr(int, "bit_count", None) or (lambda x: bin(x).count("1"))


def percentile(values, q):
    """The q-quantile (0 <= q <= 1) of values, interpolated linearly as numpy's default method."""
    v = sorted(values)
    pos = (len(v) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def load(data):
    users, items, ratings, times = [], [], [], []
    with open(os.path.join(data, "u.data")) as f:
        for line in f:
            if line.strip():
                u, i, r, t = map(int, line.split())
                users.append(u)
                items.append(i)
                ratings.append(r)
                times.append(t)
    n_items = max(items) + 1
    genres = [[False] * N_GENRES for _ in range(n_items)]
    year = [0.0] * n_items
    with open(os.path.join(data, "u.item"), encoding="latin-1") as f:
        for line in f:
            p = line.rstrip("\n").split("|")
            i = int(p[0])
            genres[i] = [c == "1" for c in p[5:24]]
            year[i] = float(int(p[2][-4:])) if p[2] else 0.0
    return users, items, ratings, times, genres, year


def features(ratings_log, genres, cutoff, n_users, n_items):
    """Per-user and per-item statistics from the ratings (u, i, r, t) before `cutoff`."""
    h = [(u, i, r, t) for u, i, r, t in ratings_log if t < cutoff]
    mu = sum(r for _, _, r, _ in h) / len(h)
    liked_rate = sum(r >= 4 for _, _, r, _ in h) / len(h)
    t90 = percentile([t for _, _, _, t in h], 0.9)
    cnt_i, sum_i, liked_i, recent_i = [0] * n_items, [0] * n_items, [0] * n_items, [0] * n_items
    cnt_u, sum_u = [0] * n_users, [0] * n_users
    user_genre = [[0] * N_GENRES for _ in range(n_users)]
    raters = [0] * n_items  # bitset of each movie's raters
    rated_by, liked_by = [[] for _ in range(n_users)], [[] for _ in range(n_users)]
    for u, i, r, t in h:
        cnt_i[i] += 1
        sum_i[i] += r
        liked_i[i] += r >= 4
        recent_i[i] += t >= t90
        cnt_u[u] += 1
        sum_u[u] += r
        for g in range(N_GENRES):
            user_genre[u][g] += genres[i][g]
        raters[i] |= 1 << u
        rated_by[u].append(i)
        if r >= 4:
            liked_by[u].append(i)
    norm = [math.sqrt(c) + 1e-9 for c in cnt_i]

    def sim(k, j):
        """Cosine similarity of movies k and j over their raters; 0 for k == j."""
        return popcount(raters[k] & raters[j]) / (norm[k] * norm[j]) if k != j else 0.0

    @functools.lru_cache(maxsize=None)
    def knn(u, j):
        """Mean similarity of movie j to the user's movies, and to those the user liked (0 if none)."""
        sims = {k: sim(k, j) for k in rated_by[u]}
        return (sum(sims.values()) / max(len(sims), 1),
                sum(sims[k] for k in liked_by[u]) / max(len(liked_by[u]), 1))

    return {
        "log_popularity": [math.log1p(c) for c in cnt_i],
        "item_mean": [(s + 10 * mu) / (c + 10) for s, c in zip(sum_i, cnt_i)],
        "item_liked_share": [(s + 10 * liked_rate) / (c + 10) for s, c in zip(liked_i, cnt_i)],
        "user_mean": [(s + 10 * mu) / (c + 10) for s, c in zip(sum_u, cnt_u)],
        "user_count": [math.log1p(c) for c in cnt_u],
        "user_genre": user_genre,
        "affinity": lambda u, j: knn(u, j)[0],
        "liked_affinity": lambda u, j: knn(u, j)[1],
        "recent_popularity": [math.log1p(c) for c in recent_i],
    }


def queries(ratings_log, genres, year, lo, hi, f):
    by_user = {}
    for u, i, r, t in ratings_log:
        if lo <= t < hi:  # the label period
            by_user.setdefault(u, {})[i] = r
    rows, qid = [], 0
    for u in sorted(by_user):
        rated = by_user[u]
        ug = f["user_genre"][u]
        share = [c / max(sum(ug), 1) for c in ug]
        # the user's three most rated genres; ties: the lower genre index first
        top = sorted(range(N_GENRES), key=lambda g: (-ug[g], g))[:3] if sum(ug) else []
        for g in range(N_GENRES):
            cand = sorted(i for i in rated if genres[i][g])
            if len(cand) < 2:
                continue
            qid += 1
            for i in cand:
                rows.append([qid, int(rated[i] >= 4),
                             f["log_popularity"][i], f["item_mean"][i], f["item_liked_share"][i], share[g],
                             float(any(genres[i][g2] for g2 in top)), f["user_mean"][u],
                             f["user_count"][u], f["affinity"](u, i), f["liked_affinity"](u, i), year[i],
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
    ratings_log = list(zip(users, items, ratings, times))
    n_users, n_items = max(users) + 1, max(items) + 1
    t80 = percentile(times, 0.8)
    t60 = percentile([t for t in times if t < t80], 0.75)
    os.makedirs(a.out, exist_ok=True)
    for name, lo, hi in [("train", t60, t80), ("test", t80, math.inf)]:
        f = features(ratings_log, genres, lo, n_users, n_items)
        rows = queries(ratings_log, genres, year, lo, hi, f)
        write(os.path.join(a.out, f"{name}.tsv"), rows)
        labels = [r[1] for r in rows]
        print(f"{name}: {rows[-1][0]} queries, {len(rows)} rows, positive rate {sum(labels) / len(labels):.3f}")


if __name__ == "__main__":
    main()
