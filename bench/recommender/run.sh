#!/usr/bin/env bash
# Recommender benchmark, per catalogue size: wantloop (eval recommender --model auto,
# 2 cores) beside implicit ALS / BPR / cosine item-kNN, numpy EASE and popularity
# (single thread), on the same files with the same protocol (hyper-parameters tuned on
# a validation split carved from train; see peers.py for the grids). Each peer runs in
# its own process so its peak memory is its own.
#
# Sizes (SIZES="ml100k 10k 100k" by default):
#   ml100k  MovieLens-100K, implicit 80/20 split (quality on real data)
#   10k     synthetic: 9,700 items, 610 users, 100,000 interactions (the shape of a
#           small real catalogue with few, very active people; gen.py)
#   100k    synthetic: 100,000 items, 200,000 users, 10M interactions, 5,000 test users
#           (cost; peers: ALS and item-kNN on the middle of their grids, EASE cannot fit)
#
# Usage: bench/recommender/run.sh   (WANTLOOP_DATA defaults to <repo>/../shared/data;
#        SIZES="10k" for one size; REUSE_PEERS=1 keeps the peers' last results for that data)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ML="${WANTLOOP_DATA:-$ROOT/../shared/data}/movielens-100k/splits"
SIZES="${SIZES:-ml100k 10k 100k}"
VENV=bench/.venv
PY="$VENV/bin/python"
WORK=bench/instances/recommender
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wantloop/target}"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

if [ ! -x "$PY" ] || ! "$PY" -c 'import implicit, numpy, scipy' 2>/dev/null; then
    echo "== installing implicit, numpy, scipy into $VENV" >&2
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet implicit==0.7.3 numpy scipy
fi
echo "== building wantloop (release)" >&2
cargo build --quiet --release -p wantloop
BIN="${WANTLOOP_BIN:-$CARGO_TARGET_DIR/release/wantloop}"
mkdir -p "$WORK"

for size in $SIZES; do
    peer_args=()
    peers="implicit-als implicit-bpr implicit-itemknn-cosine numpy-ease popularity"
    case "$size" in
        ml100k)
            TRAIN="$ML/implicit-80-20-seed42.train.tsv" TEST="$ML/implicit-80-20-seed42.test.tsv"
            [ -f "$TRAIN" ] || { echo "no MovieLens-100k split at $ML; skipping" >&2; continue; } ;;
        10k)
            [ -f "$WORK/10k/train.tsv" ] || "$PY" bench/recommender/gen.py --users 610 --items 9700 \
                --interactions 100000 --seed 1 --out "$WORK/10k"
            TRAIN="$WORK/10k/train.tsv" TEST="$WORK/10k/test.tsv" ;;
        100k)
            [ -f "$WORK/100k/train.tsv" ] || "$PY" bench/recommender/gen.py --users 200000 --items 100000 \
                --interactions 10000000 --test-users 5000 --seed 3 --out "$WORK/100k"
            TRAIN="$WORK/100k/train.tsv" TEST="$WORK/100k/test.tsv"
            peer_args=(--small-grids)
            peers="implicit-als implicit-itemknn-cosine popularity" ;;
        *) echo "unknown size $size" >&2; exit 2 ;;
    esac
    echo "== $size: wantloop eval recommender --model auto" >&2
    ours=$("$BIN" eval recommender --train "$TRAIN" --test "$TEST" --model auto --json)
    echo "$ours" > "$WORK/$size.ours.json"
    if [ -n "${REUSE_PEERS:-}" ] && [ -s "$WORK/$size.peers.jsonl" ]; then
        echo "== $size: peers from the last run ($WORK/$size.peers.jsonl; REUSE_PEERS is set)" >&2
    else
        : > "$WORK/$size.peers.jsonl"
        for peer in $peers; do
            echo "== $size: $peer" >&2
            "$PY" bench/recommender/peers.py --train "$TRAIN" --test "$TEST" --only "$peer" "${peer_args[@]}" \
                >> "$WORK/$size.peers.jsonl"
        done
    fi
    SIZE="$size" OURS="$ours" PEERS="$(cat "$WORK/$size.peers.jsonl")" "$PY" - <<'PY'
import json, os
ours = json.loads(os.environ["OURS"])
peers = [json.loads(l) for l in os.environ["PEERS"].splitlines() if l.strip()]
print(f"\n### {os.environ['SIZE']}: {ours['items']} items, {ours['train_interactions']} training interactions, "
      f"{ours['users']} test users\n")
print("| model | NDCG@10 | P@10 | tuning s | fit s | peak MB | params |")
print("|---|---|---|---|---|---|---|")
print(f"| **wantloop auto → {ours['model']}** (2 threads) | **{ours['ndcg@10']:.4f}** | {ours['precision@10']:.4f} | "
      f"{ours['tune_seconds']:.2f} | {ours['fit_seconds']:.2f} | {ours['peak_rss_mb']:.0f} | `{json.dumps(ours['params'])}` |")
done = [p for p in peers if "skipped" not in p]
for p in done:
    print(f"| {p['peer']} (1 thread) | {p['ndcg@10']:.4f} | {p['precision@10']:.4f} | {p['tune_seconds']:.2f} | "
          f"{p['fit_seconds']:.2f} | {p['peak_rss_mb']:.0f} | `{json.dumps(p['params'])}` |")
for p in peers:
    if "skipped" in p:
        print(f"| {p['peer']} | — | — | — | — | — | skipped: {p['skipped']} |")
best = max(done, key=lambda p: p["ndcg@10"]) if done else None
if best:
    print(f"\nwantloop / best peer ({best['peer']}) NDCG@10: {ours['ndcg@10'] / best['ndcg@10']:.3f}; "
          f"wantloop total seconds (tuning + fit): {ours['total_seconds']:.2f}")
print("selection: " + ours["selection"]["reason"])
for fam, why in ours["selection"]["skipped"]:
    print(f"  skipped {fam}: {why}")
PY
done
