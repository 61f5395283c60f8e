#!/usr/bin/env bash
# The loop, replayed on MovieLens-100K (`wantloop simulate`, issue 13's protocol): 10 rounds,
# five seeds, acceptance@1; writes the report to bench/instances/ranker/loop.json, prints the
# per-round table and the goals, and draws docs/loop.svg (the README's learning curve).
#
# Usage: bench/ranker/loop.sh   (WANTLOOP_DATA defaults to <repo>/../shared/data)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wantloop/target}"
DATA="${WANTLOOP_DATA:-$ROOT/../shared/data}/movielens-100k"
[ -f "$DATA/u.data" ] || { echo "no MovieLens-100K at $DATA" >&2; exit 1; }
cargo build --quiet --release -p wantloop
BIN="${WANTLOOP_BIN:-$CARGO_TARGET_DIR/release/wantloop}"
mkdir -p bench/instances/ranker
"$BIN" simulate --ratings "$DATA/u.data" --items "$DATA/u.item" --rounds 10 --seeds 5 --json \
    > bench/instances/ranker/loop.json
python3 - bench/instances/ranker/loop.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
arms = ["v1", "frozen", "frozen_model", "retrained", "random", "upper_bound"]
print("round base  " + " ".join(f"{a:>12}" for a in arms) + "  exact/greedy satisfied")
for p in r["per_round"]:
    print(f"{p['round']:>5} {p['base_rate']:.3f} " + " ".join(f"{p['acceptance'][a]:>12.3f}" for a in arms)
          + f"  {p['exact_satisfied']:.1f}/{p['greedy_satisfied']:.1f}")
print(json.dumps(r["goals"], indent=1))
PY
python3 bench/ranker/plot_loop.py bench/instances/ranker/loop.json docs/loop.svg
echo "wrote docs/loop.svg" >&2
