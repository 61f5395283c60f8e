#!/usr/bin/env bash
# Image search on the COIL folders (issue 15): wantloop's `eval images` (hand-crafted features,
# and the pretrained network when installed) and, in the same run on the same images, the
# scikit-image colour/LBP/HOG baseline with exact cosine and hnswlib on wantloop's exported
# vectors. Prints one JSON line per result, then the ratios.
#
# Usage: bench/images/run.sh   (WANTLOOP_DATA defaults to <repo>/../shared/data; the network's
# weights are installed into bench/instances/images/data if missing)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wantloop/target}"
DATA="${WANTLOOP_DATA:-$ROOT/../shared/data}"
VENV=bench/.venv
PY="$VENV/bin/python"
WORK=bench/instances/images
mkdir -p "$WORK"
if [ ! -x "$PY" ] || ! "$PY" -c 'import hnswlib, skimage, PIL, numpy' 2>/dev/null; then
    echo "== installing hnswlib, scikit-image, pillow, numpy into $VENV" >&2
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet hnswlib==0.8.0 scikit-image==0.26.0 pillow numpy
fi
cargo build --quiet --release -p wantloop
BIN="${WANTLOOP_BIN:-$CARGO_TARGET_DIR/release/wantloop}"
[ -f "$WORK/data/models/efficientnet-lite0.pth" ] || "$BIN" models install image --data-dir "$WORK/data" >&2
for set in coil-100-obj1-50 coil-20; do
    dir="$DATA/$set"
    [ -f "$dir/labels.csv" ] || { echo "no $set at $dir" >&2; exit 1; }
    for features in hand-crafted learned; do
        echo "== $set: wantloop, $features" >&2
        "$BIN" eval images --dir "$dir" --features "$features" --data-dir "$WORK/data" --json \
            | python3 -c 'import json, sys; r = json.load(sys.stdin); r.pop("tuning"); print(json.dumps({"set": "'"$set"'", "peer": "wantloop", **r}))' \
            | tee "$WORK/$set-$features.json"
        "$BIN" export image-vectors --dir "$dir" --features "$features" --data-dir "$WORK/data" --out "$WORK/$set-$features.npy"
        echo "== $set: peers on the $features vectors" >&2
        "$PY" bench/images/peers.py --dir "$dir" --vectors "$WORK/$set-$features.npy" \
            | python3 -c 'import json, sys
for l in sys.stdin: print(json.dumps({**json.loads(l), "set": "'"$set"'", "features": "'"$features"'"}))' \
            | tee "$WORK/$set-$features-peers.json"
    done
done
python3 - "$WORK" <<'PY'
import json, os, sys
work = sys.argv[1]
for s in ("coil-100-obj1-50", "coil-20"):
    for f in ("hand-crafted", "learned"):
        ours = json.load(open(os.path.join(work, f"{s}-{f}.json")))
        peers = {p["peer"]: p for p in map(json.loads, open(os.path.join(work, f"{s}-{f}-peers.json")))}
        base = peers["skimage-hsv-histogram"]["map"]
        print(f"{s} {f}: mAP {ours['map']:.4f} ({ours['map'] / base:.3f}x skimage HSV {base:.4f}, "
              f"colour+LBP+HOG {peers['skimage-colour+lbp+hog']['map']:.4f})")
        h = {c["ef"]: c for c in peers["hnswlib"]["curve"]}
        for c in ours["ann"]["curve"]:
            p = h[c["ef"]]
            print(f"   ef {c['ef']:>2}: wantloop recall {c['recall@10']:.4f} at {c['queries_per_second']:.0f} q/s; "
                  f"hnswlib {p['recall@10']:.4f} at {p['queries_per_second']:.0f} q/s ({c['queries_per_second'] / p['queries_per_second']:.2f}x)")
        print(f"   build: wantloop {ours['ann']['build_seconds']:.3f} s, hnswlib {peers['hnswlib']['build_seconds']:.3f} s")
PY
