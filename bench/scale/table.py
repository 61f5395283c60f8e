#!/usr/bin/env python3
"""Prints the README's growth table from bench/scale/run.sh results: one
column per size, and (with --before) the same measures of another build run
on the same data in the same session, beside the issue's goals.

usage: table.py RESULTS.jsonl [--before BASE.jsonl]"""

import argparse
import json


def load(path):
    rows = {}
    for line in open(path):
        r = json.loads(line)
        rows[r["offers"]] = r  # the last run of a size wins
    return rows


def size_name(n):
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def latency(r, key):
    x = r[key]
    return f"{x['p50_ms']:.1f} / {x['p99_ms']:.1f} ms, {x['rps']:,.0f}"


MEASURES = [
    ("import offers / demands, rows/s (SQLite)",
     lambda r: f"{r['import']['offers_rows_per_s']:,} / {r['import']['demands_rows_per_s']:,}", "≥ 50,000"),
    ("import offers / demands, rows/s (PostgreSQL)",
     lambda r: (f"{r['import_postgres']['offers_rows_per_s']:,} / {r['import_postgres']['demands_rows_per_s']:,}"
                if r.get("import_postgres") else "—"), "≥ 50,000"),
    ("import peak RSS", lambda r: f"{r['import']['peak_rss_mb']} MB", "flat"),
    ("index brought up to date after both imports", lambda r: f"{r['import']['index_catch_up_seconds']:.1f} s", "—"),
    ("`serve` ready after restart", lambda r: f"{r['serve_ready_seconds']:.2f} s", "≤ 60 s at 2M documents"),
    ("`GET /v1/demands/{id}/candidates` p50 / p99, req/s", lambda r: latency(r, "candidates"), "p99 ≤ 20 ms"),
    ("`POST /v1/demands/{id}/match` p50 / p99, req/s", lambda r: latency(r, "match"), "p99 ≤ 30 ms"),
    ("`GET /v1/offers/{id}/demands` p50 / p99, req/s", lambda r: latency(r, "offer_demands"), "p99 ≤ 50 ms"),
    ("`POST /v1/demands` p50 / p99, req/s", lambda r: latency(r, "post_demand"), "≥ 3,000 req/s, durable"),
    ("uncached search p50 / p99, req/s (16 connections)", lambda r: latency(r, "search_uncached"), "—"),
    ("uncached search p50 / p99, req/s (1 client)",
     lambda r: latency(r, "search_uncached_1_client") if "search_uncached_1_client" in r else "—", "p99 ≤ 10 ms at 2M"),
    ("`allocate --dry-run`: candidates + solve (edges)",
     lambda r: (f"{r['allocate']['candidate_seconds']:.1f} + {r['allocate']['solve_seconds']:.1f} s "
                f"({r['allocate']['edges'] / 1e6:.2f}M)"), "100k ≤ 30 s end to end"),
    ("allocation wall time, peak RSS",
     lambda r: f"{r['allocate_wall_seconds']:.1f} s, {r['allocate_peak_rss_mb']:,} MB", "1M within 8 GB"),
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("results")
    p.add_argument("--before")
    a = p.parse_args()
    rows = load(a.results)
    before = load(a.before) if a.before else {}
    sizes = sorted(rows)
    head = [size_name(s) for s in sizes] + [f"before, {size_name(s)}" for s in sorted(before)]
    print("| what | " + " | ".join(head) + " | goal at 1M |")
    print("|---" * (len(head) + 2) + "|")
    for name, cell, goal in MEASURES:
        cells = [cell(rows[s]) for s in sizes] + [cell(before[s]) for s in sorted(before)]
        print(f"| {name} | " + " | ".join(cells) + f" | {goal} |")


if __name__ == "__main__":
    main()
