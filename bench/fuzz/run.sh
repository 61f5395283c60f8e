#!/usr/bin/env bash
# Runs every cargo-fuzz target for MINUTES minutes each (default 10), two at a
# time (one per core), from the committed seeds in fuzz/corpus/; new inputs go
# to a scratch corpus, crashes to fuzz/artifacts/TARGET/. Prints one line per
# target (runs, corpus, crashes) and fails if any target crashed.
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Usage: bench/fuzz/run.sh [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/../../fuzz"

MINUTES="${1:-10}"
SECONDS_EACH=$(( MINUTES * 60 ))
export CARGO_TARGET_DIR="${CARGO_FUZZ_TARGET_DIR:-$HOME/.cache/wantloop/fuzz-target}"
SCRATCH="${FUZZ_SCRATCH:-$HOME/.cache/wantloop/fuzz-corpus}"
TARGETS=(import_records alloc_instance search_query config_toml)

mkdir -p "$SCRATCH"
cargo +nightly fuzz build --release

run_one() {
  local t=$1
  mkdir -p "$SCRATCH/$t" "artifacts/$t"
  # -rss_limit_mb: a request that allocates without a bound is a finding too.
  cargo +nightly fuzz run --release "$t" "$SCRATCH/$t" "corpus/$t" -- \
    -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    > "$SCRATCH/$t.log" 2>&1 || true
  local runs corpus crashes
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$SCRATCH/$t.log" | grep -Eo '[0-9]+$' || echo 0)
  corpus=$(find "$SCRATCH/$t" -type f | wc -l)
  crashes=$(find "artifacts/$t" -type f | wc -l)
  echo "$t: $runs runs in $MINUTES min, corpus $corpus inputs, crashes $crashes"
}

pids=()
for i in "${!TARGETS[@]}"; do
  run_one "${TARGETS[$i]}" > "$SCRATCH/${TARGETS[$i]}.summary" &
  pids+=($!)
  # Two at a time: wait for the pair before starting the next.
  if (( i % 2 == 1 )); then wait "${pids[@]}"; pids=(); fi
done
wait "${pids[@]}" 2>/dev/null || true

status=0
for t in "${TARGETS[@]}"; do
  cat "$SCRATCH/$t.summary"
  grep -q 'crashes 0$' "$SCRATCH/$t.summary" || status=1
done
exit $status
