#!/usr/bin/env python3
"""Draws the growth curves of bench/scale/run.sh: one panel per measure, size
on a log axis. usage: plot.py RESULTS.jsonl OUT.png"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[r["offers"]] = r  # the last run of a size wins
sizes = sorted(rows)
rs = [rows[s] for s in sizes]

fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
for key, label in [("candidates", "GET candidates"), ("match", "POST match"), ("offer_demands", "GET offer's demands"),
                   ("search_uncached", "uncached search"), ("post_demand", "POST demand")]:
    ax[0].plot(sizes, [r[key]["p99_ms"] for r in rs], marker="o", label=label)
ax[0].set(xscale="log", yscale="log", xlabel="offers (= demands)", ylabel="p99 latency, ms (wrk, 16 connections)")
ax[0].legend(fontsize=8)
ax[1].plot(sizes, [r["import"]["offers_rows_per_s"] for r in rs], marker="o", label="import offers")
ax[1].plot(sizes, [r["import"]["demands_rows_per_s"] for r in rs], marker="o", label="import demands")
ax[1].plot(sizes, [r["post_demand"]["rps"] for r in rs], marker="o", label="POST demand, req/s")
ax[1].set(xscale="log", yscale="log", xlabel="offers (= demands)", ylabel="rows/s")
ax[1].legend(fontsize=8)
ax[2].plot(sizes, [r["allocate"]["candidate_seconds"] for r in rs], marker="o", label="allocation: candidates")
ax[2].plot(sizes, [r["allocate"]["solve_seconds"] for r in rs], marker="o", label="allocation: solve")
ax[2].plot(sizes, [r["serve_ready_seconds"] for r in rs], marker="o", label="serve ready after restart")
ax[2].set(xscale="log", yscale="log", xlabel="offers (= demands)", ylabel="seconds")
ax[2].legend(fontsize=8)
fig.suptitle("wantloop at growing market sizes (SQLite, release build, 2 cores)")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
print(f"wrote {sys.argv[2]}")
