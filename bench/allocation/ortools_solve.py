#!/usr/bin/env python3
"""Solve an allocation instance with OR-Tools' SimpleMinCostFlow (reference).

Network: source -> demand (cap quantity, cost 0), demand -> offer (cap
min(quantity, capacity), cost -round(score * 1e6)), offer -> sink (cap
capacity, cost 0), plus a zero-cost source -> sink bypass arc so that the
minimum-cost flow of value sum(quantity) is the optimum over all flow values
(nothing has to be saturated). This is the same integer cost scaling as
wantloop-alloc (SCORE_SCALE = 1e6, round half away from zero on exact
six-decimal scores is unambiguous).

Only the Solve() call is timed. Prints one JSON object:
{"objective", "units", "seconds", "load_seconds", "status"}.
"""

import argparse
import json
import sys
import time

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow

SCORE_SCALE = 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--demands", required=True)
    ap.add_argument("--offers", required=True)
    ap.add_argument("--edges", required=True)
    args = ap.parse_args()

    t0 = time.perf_counter()
    dem = pd.read_csv(args.demands, dtype={"demand_id": str, "quantity": np.int64})
    off = pd.read_csv(args.offers, dtype={"offer_id": str, "capacity": np.int64})
    edg = pd.read_csv(
        args.edges, dtype={"demand_id": str, "offer_id": str, "score": np.float64}
    )
    nd, no = len(dem), len(off)
    d_index = pd.Index(dem["demand_id"])
    o_index = pd.Index(off["offer_id"])
    ed = d_index.get_indexer(edg["demand_id"])
    eo = o_index.get_indexer(edg["offer_id"])
    if (ed < 0).any() or (eo < 0).any():
        sys.exit("edges.csv references an unknown id")
    qty = dem["quantity"].to_numpy(np.int64)
    cap = off["capacity"].to_numpy(np.int64)
    score = edg["score"].to_numpy(np.float64)
    cost = -np.round(score * SCORE_SCALE).astype(np.int64)
    keep = cost < 0  # score <= 0 is never worth using (same as wantloop-alloc)
    ed, eo, score, cost = ed[keep], eo[keep], score[keep], cost[keep]

    source, sink = 0, 1 + nd + no
    total = int(qty.sum())
    tails = np.concatenate(
        [np.zeros(nd, np.int64), 1 + ed, 1 + nd + np.arange(no), [source]]
    ).astype(np.int32)
    heads = np.concatenate(
        [1 + np.arange(nd), 1 + nd + eo, np.full(no, sink), [sink]]
    ).astype(np.int32)
    caps = np.concatenate(
        [qty, np.minimum(qty[ed], cap[eo]), cap, [total]]
    ).astype(np.int64)
    costs = np.concatenate(
        [np.zeros(nd, np.int64), cost, np.zeros(no, np.int64), [0]]
    ).astype(np.int64)

    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    smcf.set_nodes_supplies(
        np.array([source, sink], np.int32), np.array([total, -total], np.int64)
    )
    load_seconds = time.perf_counter() - t0

    t1 = time.perf_counter()
    status = smcf.solve()
    seconds = time.perf_counter() - t1
    if status != smcf.OPTIMAL:
        sys.exit(f"OR-Tools status {status}")

    edge_arcs = arcs[nd : nd + len(ed)]
    flows = smcf.flows(edge_arcs)
    objective = float(np.dot(score, flows))
    print(
        json.dumps(
            {
                "objective": objective,
                "units": int(flows.sum()),
                "seconds": seconds,
                "load_seconds": load_seconds,
                "integer_cost": int(smcf.optimal_cost()),
                "status": "OPTIMAL",
            }
        )
    )


if __name__ == "__main__":
    main()
