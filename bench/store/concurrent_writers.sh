#!/usr/bin/env bash
# Concurrent writers across processes on one PostgreSQL database: N `wantloop
# serve` nodes (N in NODES), CONNECTIONS wrk connections spread over them, for
# SECONDS each, two workloads: `post` (POST /v1/demands only) and `mixed`
# (posting demands and offers, matching demands, accepting matches, searching,
# listing). Prints
# requests per second, non-2xx answers and latency per run.
#
# Needs the release binary, wrk (apt-get install wrk) and PostgreSQL at
# WANTLOOP_BENCH_PG (default postgres://postgres@127.0.0.1:5432/test).
# WORKLOADS="post" runs one workload only.
# Usage: bench/store/concurrent_writers.sh [SECONDS] [CONNECTIONS] [NODES...]
#   e.g. WANTLOOP_BIN=old/wantloop WANTLOOP_SERVE_FLAGS=--no-retrain bench/store/concurrent_writers.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

SECONDS_EACH="${1:-20}"
CONNECTIONS="${2:-32}"
shift 2 || true
NODES=("${@:-1 3}")
read -r -a NODES <<< "${NODES[*]}"
PG="${WANTLOOP_BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}"
# WANTLOOP_BIN and WANTLOOP_SERVE_FLAGS let the same run measure an older build.
BIN="${WANTLOOP_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/wantloop/target}/release/wantloop}"
read -r -a SERVE_FLAGS <<< "${WANTLOOP_SERVE_FLAGS:---rate-limit 0 --no-retrain}"
command -v wrk > /dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/v1/demands", nil,
    '{"requester":"bench' .. n .. '","text":"想买一台二手山地自行车 预算五百","category":"bicycles","budget":50000}')
end
LUA
cat > "$WORK/mixed.lua" <<'LUA'
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local k = n % 10
  if k < 3 then
    return wrk.format("POST", "/v1/demands", nil,
      '{"requester":"m' .. n .. '","text":"求购二手自行车","category":"bicycles","budget":50000}')
  elseif k < 5 then
    return wrk.format("POST", "/v1/offers", nil,
      '{"provider":"p' .. n .. '","text":"九成新自行车","category":"bicycles","price":30000,"capacity":2}')
  elseif k < 7 then
    return wrk.format("POST", "/v1/demands/" .. (1 + n % 200) .. "/match", nil, "")
  elseif k == 7 then
    -- Many of these find the match taken or missing (409 / 404): by design.
    return wrk.format("POST", "/v1/matches/" .. (1 + n % 400) .. "/accept", nil, "")
  elseif k == 8 then
    return wrk.format("GET", "/v1/search?q=%E8%87%AA%E8%A1%8C%E8%BD%A6&limit=10")
  else
    return wrk.format("GET", "/v1/offers?limit=20")
  end
end
LUA

run() {
  local nodes=$1 workload=$2
  local db="wl_bench_$$_${nodes}_${workload}"
  psql -q "$PG" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  local url="${PG%/*}/$db"
  local urls=()
  for i in $(seq 1 "$nodes"); do
    WANTLOOP_LOG=warn "$BIN" serve --open --database-url "$url" --data-dir "$WORK/$db-$i" --listen 127.0.0.1:0 \
      "${SERVE_FLAGS[@]}" > "$WORK/$db-$i.out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 100); do
      grep -q 'http://' "$WORK/$db-$i.out" && break
      sleep 0.1
    done
    urls+=("$(grep -o 'http://[0-9.:]*' "$WORK/$db-$i.out" | head -n1)")
  done
  # Some demands for the mixed workload to match.
  for i in $(seq 1 200); do
    curl -s -o /dev/null -X POST -H 'content-type: application/json' "${urls[0]}/v1/demands" \
      -d "{\"requester\":\"seed$i\",\"text\":\"想买自行车\",\"category\":\"bicycles\",\"budget\":50000}"
  done
  local per=$(( CONNECTIONS / nodes ))
  local outs=()
  for u in "${urls[@]}"; do
    wrk -t1 -c"$per" -d"${SECONDS_EACH}s" --latency -s "$WORK/$workload.lua" "$u" > "$WORK/wrk-$db-${#outs[@]}.txt" &
    outs+=("$WORK/wrk-$db-${#outs[@]}.txt")
  done
  wait $(jobs -p | tail -n "${#urls[@]}") 2> /dev/null || true
  sleep 1
  local rps=0 non2xx=0 p99s=""
  for f in "${outs[@]}"; do
    rps=$(awk -v a="$rps" '/Requests\/sec/ {printf "%.0f", a + $2}' "$f")
    non2xx=$(( non2xx + $(awk '/Non-2xx/ {print $NF}' "$f" | tail -n1 | grep -Eo '[0-9]+' || echo 0) ))
    p99s="$p99s $(awk '/ 99%/ {print $2}' "$f")"
  done
  echo "nodes=$nodes workload=$workload connections=$CONNECTIONS seconds=$SECONDS_EACH requests_per_second=$rps non_2xx=$non2xx p99=[${p99s# }]"
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  PIDS=()
  sleep 1
  psql -q "$PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
}

for n in "${NODES[@]}"; do
  for w in ${WORKLOADS:-post mixed}; do
    run "$n" "$w"
  done
done
