#!/usr/bin/env bash
# Recommender benchmark: wantloop (eval recommender --model auto) vs implicit
# ALS / BPR / cosine item-kNN, numpy EASE and popularity, on the same
# MovieLens-100k implicit 80/20 split, same protocol (hyper-parameters tuned on
# a validation split carved from train; see peers.py for the grids).
#
# Usage: bench/recommender/run.sh   (WANTLOOP_DATA defaults to <repo>/../shared/data)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
DATA="${WANTLOOP_DATA:-$ROOT/../shared/data}/movielens-100k/splits"
TRAIN="$DATA/implicit-80-20-seed42.train.tsv"
TEST="$DATA/implicit-80-20-seed42.test.tsv"
VENV=bench/.venv
PY="$VENV/bin/python"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wantloop/target}"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
[ -f "$TRAIN" ] && [ -f "$TEST" ] || { echo "no MovieLens-100k split at $DATA" >&2; exit 1; }

if [ ! -x "$PY" ] || ! "$PY" -c 'import implicit, numpy, scipy' 2>/dev/null; then
    echo "== installing implicit, numpy, scipy into $VENV" >&2
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet implicit==0.7.3 numpy scipy
fi
echo "== building wantloop (release)" >&2
cargo build --quiet --release -p wantloop
BIN="${WANTLOOP_BIN:-$CARGO_TARGET_DIR/release/wantloop}"

echo "== wantloop eval recommender --model auto" >&2
ours=$("$BIN" eval recommender --train "$TRAIN" --test "$TEST" --model auto --json)
echo "== peers (tuning on validation, single thread)" >&2
peers=$("$PY" bench/recommender/peers.py --train "$TRAIN" --test "$TEST")

OURS="$ours" PEERS="$peers" "$PY" - <<'PY'
import json, os
ours = json.loads(os.environ["OURS"])
peers = [json.loads(l) for l in os.environ["PEERS"].splitlines() if l.strip()]
print(f"{'model':<26}{'P@10':>8}{'R@10':>8}{'NDCG@10':>9}{'fit s':>9}  params")
print(f"{'wantloop (' + ours.get('model', 'auto') + ')':<26}{ours['precision@10']:8.4f}{ours['recall@10']:8.4f}"
      f"{ours['ndcg@10']:9.4f}{ours['fit_seconds']:9.3f}  {json.dumps(ours.get('params'))}")
for p in peers:
    print(f"{p['peer']:<26}{p['precision@10']:8.4f}{p['recall@10']:8.4f}{p['ndcg@10']:9.4f}"
          f"{p['fit_seconds']:9.3f}  {json.dumps(p['params'])}")
print()
print(f"{'ratio wantloop / peer':<26}{'NDCG@10':>9}{'fit time':>10}")
for p in peers:
    fit = ours['fit_seconds'] / p['fit_seconds'] if p['fit_seconds'] > 0 else float('nan')
    print(f"{p['peer']:<26}{ours['ndcg@10'] / p['ndcg@10']:9.3f}{fit:10.2f}")
cuda = any(p.get('implicit_has_cuda') for p in peers)
print(f"\nimplicit {peers[0]['implicit'] if peers else '?'}: CPU classes, num_threads=1, "
      f"OPENBLAS_NUM_THREADS=1; CUDA build available: {cuda} (GPU not used)")
PY
