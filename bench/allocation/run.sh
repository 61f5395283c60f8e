#!/usr/bin/env bash
# Allocation benchmark: wantloop-alloc's exact solver vs OR-Tools'
# SimpleMinCostFlow on the same instance files.
#
# Usage: bench/allocation/run.sh [S|L ...]      (default: S L)
#
# Environment:
#   WANTLOOP_BIN   solver binary; default: the release CLI, built first and
#                  called as `wantloop allocate ...` (the crate example
#                  `solve_files` accepts the same arguments).
#   REPEAT         runs per solver and size (default 3); the best solve time
#                  of each is reported (the machine may be shared).
#   CARGO_TARGET_DIR  where cargo builds (default: target).
#
# Creates bench/.venv (ortools, numpy from PyPI) and bench/instances/<size>/
# (both gitignored). Instances are generated once and reused.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HERE=bench/allocation
VENV=bench/.venv
PY="$VENV/bin/python"
REPEAT="${REPEAT:-3}"
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(S L)

if [ ! -x "$PY" ] || ! "$PY" -c 'import ortools, numpy, pandas' 2>/dev/null; then
    echo "== creating $VENV (ortools, numpy)" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet ortools numpy pandas
fi

TARGET="${CARGO_TARGET_DIR:-target}"
if [ -n "${WANTLOOP_BIN:-}" ]; then
    BIN="$WANTLOOP_BIN"
else
    echo "== building wantloop (release)" >&2
    cargo build --quiet --release -p wantloop
    BIN="$TARGET/release/wantloop"
fi
# The real CLI needs the subcommand word; the example accepts and ignores it.
OURS=("$BIN" allocate)

gen() {
    local size=$1 dir=bench/instances/$1
    if [ -f "$dir/edges.csv" ]; then return; fi
    case $size in
        S) "$PY" $HERE/gen_instance.py --demands 10000 --offers 5000 --seed 1 --out "$dir" >&2 ;;
        L) "$PY" $HERE/gen_instance.py --demands 100000 --offers 50000 --seed 2 --out "$dir" >&2 ;;
        *) echo "unknown size $size" >&2; exit 2 ;;
    esac
}

for size in "${SIZES[@]}"; do
    gen "$size"
    dir=bench/instances/$size
    args=(--demands "$dir/demands.csv" --offers "$dir/offers.csv" --edges "$dir/edges.csv")
    ours=()
    ref=()
    for ((i = 0; i < REPEAT; i++)); do
        ref+=("$("$PY" $HERE/ortools_solve.py "${args[@]}")")
        ours+=("$("${OURS[@]}" "${args[@]}" --json)")
    done
    "$PY" - "$size" "$dir" "${#ref[@]}" "${ref[@]}" "${ours[@]}" <<'EOF'
import json, sys
size, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ref = [json.loads(x) for x in sys.argv[4:4 + n]]
ours = [json.loads(x) for x in sys.argv[4 + n:]]
edges = sum(1 for _ in open(f"{d}/edges.csv")) - 1
r = min(ref, key=lambda x: x["seconds"])
o = min(ours, key=lambda x: x["seconds"])
rel = abs(o["objective"] - r["objective"]) / max(abs(r["objective"]), 1e-300)
ref_all = ", ".join("%.3f" % x["seconds"] for x in ref)
ours_all = ", ".join("%.3f" % x["seconds"] for x in ours)
print(f"== size {size}: {d} ({edges} edges), best of {n} runs each")
print(f"   OR-Tools SimpleMinCostFlow  objective {r['objective']:.6f}  units {r['units']}  "
      f"solve {r['seconds']:.3f}s  (all: {ref_all})")
print(f"   wantloop-alloc optimal      objective {o['objective']:.6f}  units {o['units']}  "
      f"solve {o['seconds']:.3f}s  (all: {ours_all})  "
      f"load {o['load_seconds']:.3f}s")
print(f"   relative objective difference {rel:.3e}  ({'OK' if rel <= 1e-6 else 'MISMATCH'})")
print(f"   time ratio wantloop/OR-Tools {o['seconds'] / r['seconds']:.3f}  "
      f"({'meets' if o['seconds'] <= 0.5 * r['seconds'] else 'misses'} the <= 0.5 target)")
if rel > 1e-6:
    sys.exit(1)
EOF
done
