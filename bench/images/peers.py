"""Image-search peers on one labelled folder, in the same run as wantloop:

- scikit-image's hand-crafted baseline with exact cosine (numpy): an HSV colour
  histogram (16 x 4 x 4 bins), and colour + uniform LBP (P 8, R 1, 2 x 2 grid)
  + HOG (64 x 64, 9 orientations, 16-pixel cells, 2 x 2 blocks) concatenated;
- hnswlib (M 16, efConstruction 200) on wantloop's own exported vectors:
  build seconds, then recall@10 against exact search and queries/s on one
  thread at several ef.

Every image queries all the others; relevant = the other views of its object.
Prints one JSON object per peer."""
import argparse, csv, json, os, time

import hnswlib
import numpy as np
from PIL import Image
from skimage.color import rgb2hsv
from skimage.feature import hog, local_binary_pattern


def load(folder):
    rows = list(csv.DictReader(open(os.path.join(folder, "labels.csv"))))
    images = [np.asarray(Image.open(os.path.join(folder, r["path"])).convert("RGB")) for r in rows]
    return images, np.array([r["object_id"] for r in rows])


def hsv_hist(im):
    hsv = rgb2hsv(im).reshape(-1, 3)
    b = [np.minimum((hsv[:, i] * n).astype(int), n - 1) for i, n in enumerate((16, 4, 4))]
    h = np.bincount((b[0] * 4 + b[1]) * 4 + b[2], minlength=256).astype(float)
    return h / h.sum()


def lbp_hist(im):
    g = np.asarray(Image.fromarray(im).convert("L"))
    codes = local_binary_pattern(g, 8, 1, "uniform").astype(int)
    H, W = g.shape
    out = []
    for i in range(2):
        for j in range(2):
            c = codes[i * H // 2:(i + 1) * H // 2, j * W // 2:(j + 1) * W // 2]
            h = np.bincount(c.ravel(), minlength=10).astype(float)
            out.append(h / h.sum())
    return np.concatenate(out)


def hog_vec(im):
    g = np.asarray(Image.fromarray(im).convert("L").resize((64, 64)))
    return hog(g, orientations=9, pixels_per_cell=(16, 16), cells_per_block=(2, 2))


def unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def retrieval(x, labels):
    x = unit(x.astype(np.float32))
    s = x @ x.T
    np.fill_diagonal(s, -np.inf)
    aps, p10 = [], []
    for i in range(len(labels)):
        order = np.argsort(-s[i], kind="stable")[: len(labels) - 1]
        rel = (labels[order] == labels[i]).astype(float)
        hits = np.cumsum(rel)
        aps.append(float((hits / np.arange(1, len(rel) + 1) * rel).sum() / max(rel.sum(), 1)))
        p10.append(float(rel[:10].mean()))
    return float(np.mean(aps)), float(np.mean(p10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--vectors", required=True, help="wantloop export image-vectors output (.npy)")
    a = ap.parse_args()
    images, labels = load(a.dir)
    started = time.time()
    colour = np.array([hsv_hist(im) for im in images])
    texture = np.array([lbp_hist(im) for im in images])
    shape = np.array([hog_vec(im) for im in images])
    extract = time.time() - started
    m, p = retrieval(colour, labels)
    print(json.dumps({"peer": "skimage-hsv-histogram", "map": m, "p@10": p, "dimensions": colour.shape[1]}))
    both = np.hstack([unit(colour), unit(texture), unit(shape)])
    m, p = retrieval(both, labels)
    print(json.dumps({"peer": "skimage-colour+lbp+hog", "map": m, "p@10": p, "dimensions": both.shape[1],
                      "extract_images_per_second": len(images) / extract}))

    x = unit(np.load(a.vectors).astype(np.float32))
    n, dim = x.shape
    exact = np.argsort(-(x @ x.T), axis=1, kind="stable")
    truth = [[j for j in exact[i][:11] if j != i][:10] for i in range(n)]
    # The median of three builds, as wantloop's eval reports (a build of a
    # few hundred vectors takes tens of milliseconds: one is noise).
    builds = []
    for _ in range(3):
        index = hnswlib.Index(space="ip", dim=dim)
        started = time.time()
        index.init_index(max_elements=n, M=16, ef_construction=200, random_seed=100)
        index.set_num_threads(os.cpu_count() or 1)
        index.add_items(x, np.arange(n))
        builds.append(time.time() - started)
    build = sorted(builds)[1]
    index.set_num_threads(1)
    curve = []
    for ef in (10, 20, 40, 80):
        index.set_ef(max(ef, 11))
        # Passes repeated for at least half a second, as wantloop's eval does.
        started, passes = time.time(), 0
        while passes == 0 or time.time() - started < 0.5:
            found, _ = index.knn_query(x, k=11, num_threads=1)
            passes += 1
        qps = passes * n / (time.time() - started)
        recall = np.mean([len(set(truth[i]) & set([j for j in found[i] if j != i][:10])) / 10 for i in range(n)])
        curve.append({"ef": ef, "recall@10": float(recall), "queries_per_second": qps})
    print(json.dumps({"peer": "hnswlib", "version": hnswlib.__version__ if hasattr(hnswlib, "__version__") else None,
                      "vectors": n, "dimensions": dim, "m": 16, "ef_construction": 200,
                      "build_seconds": build, "build_threads": os.cpu_count(), "curve": curve}))


if __name__ == "__main__":
    main()
