"""Draws acceptance per round for each arm of `wantloop simulate --json` as an SVG (standard
library only). Usage: plot_loop.py SIMULATION.json OUT.svg"""
import json
import sys

ARMS = [("upper_bound", "upper bound (all outcomes; not a policy)", "#9e9e9e", "4 3"),
        ("retrained", "ranker retrained each round", "#d62728", ""),
        ("frozen_model", "ranker, weights frozen, live signals", "#ff7f0e", "6 3"),
        ("frozen", "ranker frozen (loop off)", "#1f77b4", ""),
        ("v1", "v1 weights", "#2ca02c", ""),
        ("random", "random", "#7f7f7f", "2 3")]
W, H, LEFT, RIGHT, TOP, BOTTOM = 760, 420, 60, 260, 40, 50


def main():
    report = json.load(open(sys.argv[1]))
    rounds = report["per_round"]
    values = [p["acceptance"][a] for p in rounds for a, *_ in ARMS] + [p["base_rate"] for p in rounds]
    lo, hi = min(values) - 0.02, max(values) + 0.02
    x = lambda i: LEFT + (W - LEFT - RIGHT) * i / max(1, len(rounds) - 1)
    y = lambda v: TOP + (H - TOP - BOTTOM) * (hi - v) / (hi - lo)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{LEFT}" y="22" font-size="14">acceptance@{report["k"]} per round, mean of '
           f'{len(report["runs"])} seeds: {report["label"]}</text>']
    for t in range(int(lo * 20) + 1, int(hi * 20) + 1):
        v = t / 20
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.2f}</text>')
    for i, p in enumerate(rounds):
        out.append(f'<text x="{x(i):.1f}" y="{H - BOTTOM + 18}" text-anchor="middle">{p["round"]}</text>')
    out.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 12}" text-anchor="middle">round</text>')
    series = ARMS + [("base_rate", "base rate (share rated ≥ 4)", "#000", "1 3")]
    for n, (arm, label, colour, dash) in enumerate(series):
        pts = " ".join(f"{x(i):.1f},{y(p['acceptance'][arm] if arm in p['acceptance'] else p[arm]):.1f}"
                       for i, p in enumerate(rounds))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2" '
                   f'stroke-dasharray="{dash}"/>')
        ly = TOP + 10 + 20 * n
        out.append(f'<line x1="{W - RIGHT + 15}" x2="{W - RIGHT + 40}" y1="{ly}" y2="{ly}" stroke="{colour}" '
                   f'stroke-width="2" stroke-dasharray="{dash}"/>')
        out.append(f'<text x="{W - RIGHT + 46}" y="{ly + 4}">{label}</text>')
    out.append("</svg>")
    open(sys.argv[2], "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
