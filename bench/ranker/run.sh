#!/usr/bin/env bash
# Learning-to-rank benchmark on MovieLens-100K, split by time (issue 13's protocol; see
# make_set.py): builds train.tsv / test.tsv (`qid<TAB>label<TAB>feature…`), then runs the
# peers on the same files: LightGBM lambdarank (tuned on the last 20% of train's queries),
# a fixed hand-weighted sum, popularity and random.
#
# Not yet here: wantloop's own ranker (`wantloop eval ranker`), which issue 13 adds; until
# then this script measures the peers only.
#
# Usage: bench/ranker/run.sh   (WANTLOOP_DATA defaults to <repo>/../shared/data)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
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
echo "== building the time-split set" >&2
"$PY" bench/ranker/make_set.py --data "$DATA" --out "$WORK"
echo "== peers" >&2
"$PY" bench/ranker/peers.py --train "$WORK/train.tsv" --test "$WORK/test.tsv"
