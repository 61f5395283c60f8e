#!/usr/bin/env bash
# Search benchmarks, each against bm25s on the same files in the same run:
# BEIR SciFact (English retrieval) and the BQ question pairs (Chinese questions
# without spaces, through the search API's query builder).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
DATA="${WANTLOOP_DATA:-$ROOT/../shared/data}/beir-scifact"
BQ="${WANTLOOP_DATA:-$ROOT/../shared/data}/bq-corpus-qmatch/test.csv"
VENV=bench/.venv
PY="$VENV/bin/python"
TARGET="${CARGO_TARGET_DIR:-target}"
if [ ! -x "$PY" ] || ! "$PY" -c 'import bm25s, Stemmer' 2>/dev/null; then
    echo "== installing bm25s and PyStemmer into $VENV" >&2
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet bm25s PyStemmer numpy scipy
fi
cargo build --quiet --release -p wantloop
ours=$("$TARGET/release/wantloop" eval search --beir "$DATA" --json)
peer=$(OPENBLAS_NUM_THREADS=1 "$PY" bench/search/bm25s_peer.py "$DATA")
OURS="$ours" PEER="$peer" python3 - <<'PY'
import json, os
o, p = json.loads(os.environ["OURS"]), json.loads(os.environ["PEER"])
for name, r in (("wantloop", o), (f"bm25s {p['version']}", p)):
    print(f"{name:<14} nDCG@10 {r['ndcg@10']:.4f}  recall@100 {r['recall@100']:.4f}  {r['queries_per_second']:.0f} queries/s  index {r['index_seconds']:.2f} s")
print(f"ratios wantloop/bm25s: nDCG@10 {o['ndcg@10'] / p['ndcg@10']:.3f}, queries/s {o['queries_per_second'] / p['queries_per_second']:.2f}")
PY

ours=$("$TARGET/release/wantloop" eval search --pairs "$BQ" --json)
peer=$(OPENBLAS_NUM_THREADS=1 "$PY" bench/search/bm25s_pairs.py "$BQ")
OURS="$ours" PEER="$peer" python3 - <<'PY'
import json, os
o, p = json.loads(os.environ["OURS"]), json.loads(os.environ["PEER"])
for name, r in (("wantloop", o), (f"bm25s {p['version']}", p)):
    print(f"{name:<14} BQ test: top-1 {r['top1']:.4f}  MRR@10 {r['mrr@10']:.4f}  no hits {r['no_hits']}  {r['queries_per_second']:.0f} queries/s")
print(f"ratios wantloop/bm25s: top-1 {o['top1'] / p['top1']:.3f}, MRR@10 {o['mrr@10'] / p['mrr@10']:.3f}")
PY
