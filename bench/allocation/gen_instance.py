#!/usr/bin/env python3
"""Generate a random allocation instance as three CSV files.

Shape (see bench/allocation/README.md): every demand draws ~`--per-demand`
candidate offers from a Zipf-like popularity distribution (a few offers are
wanted by very many demands, most by few), quantities are 1..=3, capacities
1..=10 and scores lie in (0, 1] with exactly six decimals, so that the fixed
integer cost scaling (round(score * 1e6)) is exact for both solvers.

Deterministic for a given --seed.
"""

import argparse
import os

import numpy as np


def write_lines(path, header, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(header + "\n")
        f.write("\n".join(lines))
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--demands", type=int, required=True)
    ap.add_argument("--offers", type=int, required=True)
    ap.add_argument("--per-demand", type=int, default=30)
    ap.add_argument("--zipf", type=float, default=0.9, help="popularity exponent")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True, help="output directory")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    nd, no, k = args.demands, args.offers, args.per_demand
    os.makedirs(args.out, exist_ok=True)

    qty = rng.integers(1, 4, size=nd)
    cap = rng.integers(1, 11, size=no)

    # Zipf-like popularity over a random permutation of the offers.
    weights = 1.0 / np.arange(1, no + 1, dtype=np.float64) ** args.zipf
    weights /= weights.sum()
    perm = rng.permutation(no)
    draws = perm[rng.choice(no, size=(nd, k), p=weights)]
    keys = np.unique(np.arange(nd, dtype=np.int64)[:, None] * no + draws)
    ed = keys // no
    eo = keys % no
    # Shuffle edge order so files are not sorted by demand.
    order = rng.permutation(len(keys))
    ed, eo = ed[order], eo[order]
    micro = rng.integers(1, 1_000_001, size=len(keys))  # score = micro / 1e6

    write_lines(
        os.path.join(args.out, "demands.csv"),
        "demand_id,quantity",
        [f"d{i},{q}" for i, q in enumerate(qty.tolist())],
    )
    write_lines(
        os.path.join(args.out, "offers.csv"),
        "offer_id,capacity",
        [f"o{j},{c}" for j, c in enumerate(cap.tolist())],
    )
    lines = [
        f"d{d},o{o},{m // 1_000_000}.{m % 1_000_000:06d}"
        for d, o, m in zip(ed.tolist(), eo.tolist(), micro.tolist())
    ]
    write_lines(os.path.join(args.out, "edges.csv"), "demand_id,offer_id,score", lines)
    print(
        f"wrote {args.out}: {nd} demands, {no} offers, {len(keys)} edges, "
        f"sum qty {int(qty.sum())}, sum cap {int(cap.sum())}"
    )


if __name__ == "__main__":
    main()
