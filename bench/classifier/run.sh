#!/usr/bin/env bash
# Classifier benchmark: wantloop's classifier vs fastText (tuned on dev, with
# jieba tokens and with characters) on THUCNews titles, same files, same run.
#
# Usage: bench/classifier/run.sh        (WANTLOOP_DATA defaults to ../shared/data)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
DATA="${WANTLOOP_DATA:-$ROOT/../shared/data}/thucnews-titles"
VENV=bench/.venv
PY="$VENV/bin/python"
TARGET="${CARGO_TARGET_DIR:-target}"
[ -f "$DATA/train.txt" ] || { echo "no THUCNews data at $DATA" >&2; exit 1; }

if [ ! -x "$PY" ] || ! "$PY" -c 'import fasttext, jieba' 2>/dev/null; then
    echo "== installing fasttext-wheel and jieba into $VENV" >&2
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet fasttext-wheel jieba numpy
fi
echo "== building wantloop (release)" >&2
cargo build --quiet --release -p wantloop
BIN="${WANTLOOP_BIN:-$TARGET/release/wantloop}"

ours=$("$BIN" eval classifier --train "$DATA/train.txt" --dev "$DATA/dev.txt" --test "$DATA/test.txt" --json)
peers=$("$PY" bench/classifier/fasttext_peer.py --data "$DATA")
OURS="$ours" PEERS="$peers" python3 - <<'PY'
import json, os
ours = json.loads(os.environ["OURS"])
print(f"wantloop        accuracy {ours['accuracy']:.4f}  macro-F1 {ours['macro_f1']:.4f}  train {ours['train_seconds']:.2f} s (1 thread)  {ours['predictions_per_second']:.0f} predictions/s")
for line in os.environ["PEERS"].splitlines():
    p = json.loads(line)
    print(f"{p['peer']:<15} accuracy {p['accuracy']:.4f}  (dev {p['dev_accuracy']:.4f}; epoch {p['epoch']}, lr {p['lr']}, wordNgrams {p['wordNgrams']})  train {p['train_seconds']:.2f} s ({p['threads']} threads)  {p['predictions_per_second']:.0f} predictions/s")
    print(f"  ratios wantloop/{p['peer']}: accuracy {ours['accuracy'] / p['accuracy']:.4f}, train time {ours['train_seconds'] / p['train_seconds']:.2f}, predictions/s {ours['predictions_per_second'] / p['predictions_per_second']:.2f}")
PY
