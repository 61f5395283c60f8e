#!/usr/bin/env bash
# Learning-to-rank benchmark on MovieLens-100K, split by time (issue 13's protocol; see
# make_set.py): builds train.tsv / test.tsv (`qid<TAB>label<TAB>feature…`), then runs on the
# same files, in the same run: wantloop's LambdaMART (`wantloop eval ranker`, tuned by 4-fold
# contiguous cross-validation on train), LightGBM lambdarank (tuned on the last 20% of
# train's queries), a fixed hand-weighted sum, popularity and random; prints each as one
# JSON line, then wantloop's NDCG@10 over each peer's.
#
# Usage: bench/ranker/run.sh   (WANTLOOP_DATA defaults to <repo>/../shared/data)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wantloop/target}"
DATA="${WANTLOOP_DATA:-$ROOT/../shared/data}/movielens-100k"
VENV=bench/.venv
PY="$VENV/bin/python"
WORK=bench/instances/ranker
[ -f "$DATA/u.data" ] || { echo "no MovieLens-100K at $DATA" >&2; exit 1; }
if [ ! -x "$PY" ] || ! "$PY" -c 'import lightgbm, numpy' 2>/dev/null; then
    echo "== installing lightgbm, numpy into $VENV" >&2
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet lightgbm==4.7.0 numpy
fi
cargo build --quiet --release -p wantloop
BIN="${WANTLOOP_BIN:-$CARGO_TARGET_DIR/release/wantloop}"
echo "== building the time-split set" >&2
python3 bench/ranker/make_set.py --data "$DATA" --out "$WORK"
echo "== wantloop" >&2
ours=$("$BIN" eval ranker --train "$WORK/train.tsv" --test "$WORK/test.tsv" --json)
echo "$ours" | python3 -c 'import json, sys; r = json.load(sys.stdin); r.pop("tuning"); print(json.dumps({"peer": "wantloop-lambdamart", **r}))'
echo "== peers" >&2
peers=$("$PY" bench/ranker/peers.py --train "$WORK/train.tsv" --test "$WORK/test.tsv")
echo "$peers"
python3 - "$ours" "$peers" <<'PY'
import json, sys
ours = json.loads(sys.argv[1])
for line in sys.argv[2].splitlines():
    p = json.loads(line)
    print(f"wantloop NDCG@10 {ours['ndcg@10']:.4f} / {p['peer']} {p['ndcg@10']:.4f} = {ours['ndcg@10'] / p['ndcg@10']:.4f}")
PY
