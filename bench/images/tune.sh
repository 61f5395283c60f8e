#!/usr/bin/env bash
# How the product's image block weights were chosen: `wantloop eval images --tune` on each COIL
# folder scores a grid of weights on the first half of its objects (validation); the weights
# with the best mean validation mAP over both folders are the defaults
# (`Weights::HAND_CRAFTED`, `Weights::LEARNED`). Prints the top five per feature set with each
# folder's validation mAP, and the chosen weights' mAP on the second halves (test).
#
# Usage: bench/images/tune.sh   (after bench/images/run.sh has installed the weights)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wantloop/target}"
DATA="${WANTLOOP_DATA:-$ROOT/../shared/data}"
WORK=bench/instances/images
BIN="${WANTLOOP_BIN:-$CARGO_TARGET_DIR/release/wantloop}"
cargo build --quiet --release -p wantloop
[ -f "$WORK/data/models/efficientnet-lite0.pth" ] || "$BIN" models install image --data-dir "$WORK/data" >&2
for set in coil-100-obj1-50 coil-20; do
    for features in hand-crafted learned; do
        "$BIN" eval images --dir "$DATA/$set" --features "$features" --data-dir "$WORK/data" --tune --json \
            > "$WORK/tune-$set-$features.json"
    done
done
python3 - "$WORK" <<'PY'
import json, os, sys
work = sys.argv[1]
for f in ("hand-crafted", "learned"):
    trials, tests = {}, {}
    for s in ("coil-100-obj1-50", "coil-20"):
        r = json.load(open(os.path.join(work, f"tune-{s}-{f}.json")))
        for t in r["tuning"]["trials"]:
            trials.setdefault(json.dumps(t["weights"], sort_keys=True), []).append(t["validation_map"])
    ranked = sorted(trials.items(), key=lambda kv: -sum(kv[1]) / len(kv[1]))
    print(f"{f}: best mean validation mAP (COIL-100 1-50, COIL-20)")
    for w, v in ranked[:5]:
        print(f"  {w}  {v[0]:.4f} {v[1]:.4f}  mean {sum(v) / len(v):.4f}")
PY
