#!/usr/bin/env bash
# Question matching against bm25s on the same BQ files in the same run:
# `wantloop eval qmatch` (the paraphrase scorer trained on dev.csv, measured on
# test.csv) and bench/qa/bm25s_qmatch.py under the same protocol.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BQ="${WANTLOOP_DATA:-$ROOT/../shared/data}/bq-corpus-qmatch"
VENV=bench/.venv
PY="$VENV/bin/python"
TARGET="${CARGO_TARGET_DIR:-target}"
if [ ! -x "$PY" ] || ! "$PY" -c 'import bm25s, scipy' 2>/dev/null; then
    echo "== installing bm25s into $VENV" >&2
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet bm25s PyStemmer numpy scipy
fi
cargo build --quiet --release -p wantloop
ours=$("$TARGET/release/wantloop" eval qmatch --train "$BQ/dev.csv" --test "$BQ/test.csv" --json)
peer=$(OPENBLAS_NUM_THREADS=1 "$PY" bench/qa/bm25s_qmatch.py "$BQ/dev.csv" "$BQ/test.csv")
echo "$ours"
echo "$peer"
OURS="$ours" PEER="$peer" python3 - <<'PY'
import json, os
o, p = json.loads(os.environ["OURS"]), json.loads(os.environ["PEER"])
for name, r in (("wantloop", o), (f"bm25s {p['version']}", p)):
    c, t = r["pairs"], r["retrieval"]
    print(f"{name:<14} pairs: accuracy {c['accuracy']:.4f} F1 {c['f1']:.4f} AUC {c['auc']:.4f} | "
          f"retrieval top-1 {t['any']['top1']:.4f} MRR@10 {t['any']['mrr@10']:.4f} "
          f"(own sentence2: {t['own']['top1']:.4f} / {t['own']['mrr@10']:.4f})")
print(f"ratios wantloop/bm25s: pair accuracy {o['pairs']['accuracy'] / p['pairs']['accuracy']:.3f}, "
      f"retrieval top-1 {o['retrieval']['any']['top1'] / p['retrieval']['any']['top1']:.3f}, "
      f"MRR@10 {o['retrieval']['any']['mrr@10'] / p['retrieval']['any']['mrr@10']:.3f}")
PY
