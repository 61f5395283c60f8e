#!/usr/bin/env bash
# The loop at growing sizes: for each SIZE (1k, 10k, 100k, 1m) generate a market
# of SIZE offers and SIZE demands (bench/scale/gen_market.py: real Chinese
# reviews from $WANTLOOP_DATA/online-shopping-10-cats when present), import it,
# start `serve` on the imported data (time to ready), drive each endpoint with
# wrk (CONNECTIONS connections for DURATION seconds), run a batch allocation
# (dry run), and print one JSON object per size. Results also go to
# $SCALE_OUT/results.jsonl, and bench/scale/plot.py draws them.
#
# Usage: bench/scale/run.sh [SIZE...]        (default: 1k 10k 100k)
#   WANTLOOP_BIN=path  use this binary instead of building the release one
#   DURATION=15 CONNECTIONS=16 SCALE_OUT=/tmp/wantloop-scale
#   SCALE_PG=postgres://postgres@127.0.0.1:5432/test  also import into a fresh
#     PostgreSQL database per size (created and dropped by this script)
#   SCALE_REUSE=1  keep a size's imported data folder and import figures from
#     an earlier run in $SCALE_OUT; run only the serving and allocation steps
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"
export WANTLOOP_DATA="${WANTLOOP_DATA:-$ROOT/../shared/data}"
SIZES=("${@:-1k 10k 100k}")
read -r -a SIZES <<< "${SIZES[*]}"
DURATION="${DURATION:-15}"
CONNECTIONS="${CONNECTIONS:-16}"
OUT="${SCALE_OUT:-/tmp/wantloop-scale}"
PORT="${SCALE_PORT:-18390}"
if [ -z "${WANTLOOP_BIN:-}" ]; then
  cargo build --release -p wantloop >&2
  WANTLOOP_BIN="${CARGO_TARGET_DIR:-$HOME/.cache/wantloop/target}/release/wantloop"
fi
BIN="$WANTLOOP_BIN"
if ! command -v wrk > /dev/null; then
  echo "installing wrk from Debian's packages" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >&2; else sudo apt-get install -y wrk >&2; fi
fi
mkdir -p "$OUT"
SERVE_PID=""
cleanup() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2> /dev/null || true; }
trap cleanup EXIT

count() { case "$1" in *k) echo $(( ${1%k} * 1000 ));; *m) echo $(( ${1%m} * 1000000 ));; *) echo "$1";; esac; }

# One wrk run: prints {"p50_ms":…,"p99_ms":…,"rps":…,"non_2xx":…}; non-2xx
# answers are expected only from `match` (a demand already matched: 409). The Lua
# script picks ids at random in 1..N so no two requests share a cache entry.
drive() { # name method path-template N
  local name="$1" method="$2" path="$3" n="$4" body="${5:-}"
  cat > "$OUT/$name.lua" <<LUA
math.randomseed(7)
local n = $n
wrk.method = "$method"
wrk.headers["Content-Type"] = "application/json"
local words = {"质量","手机","屏幕","水果","新鲜","酒店","房间","衣服","尺码","电脑","书","洗发水","热水器","牛奶","平板","电池","bike","phone"}
local function enc(s) return (string.gsub(s, "[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end)) end
for i, w in ipairs(words) do words[i] = enc(w) end
request = function()
  local id = math.random(1, n)
  local path = string.gsub("$path", "{id}", tostring(id))
  local q = words[math.random(#words)] .. "%20" .. words[math.random(#words)] .. "%20" .. tostring(id)
  path = string.gsub(path, "{word}", function() return q end)
  local body = string.gsub('$body', "{id}", tostring(id))
  if body == "" then body = nil end
  return wrk.format(nil, path, nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format('{"p50_ms":%.2f,"p99_ms":%.2f,"rps":%.1f,"requests":%d,"non_2xx":%d,"timeouts":%d}\n',
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6),
    summary.requests, summary.errors.status, summary.errors.timeout))
end
LUA
  wrk -t"$(( CONNECTIONS < 2 ? CONNECTIONS : 2 ))" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$OUT/$name.lua" "http://127.0.0.1:$PORT" | tail -1
}

start_serve() { # data-dir; sets SERVE_PID and READY_S (seconds until /readyz answers)
  local t0; t0=$(date +%s.%N)
  "$BIN" serve --open --data-dir "$1" --listen "127.0.0.1:$PORT" --rate-limit 0 --no-retrain --max-in-flight 4096 \
    > "$OUT/serve.log" 2>&1 &
  SERVE_PID=$!
  until curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null; do
    kill -0 "$SERVE_PID" 2> /dev/null || { echo "serve died:" >&2; tail -5 "$OUT/serve.log" >&2; exit 1; }
    sleep 0.2
  done
  READY_S=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
}

stop_serve() { kill "$SERVE_PID"; wait "$SERVE_PID" 2> /dev/null || true; SERVE_PID=""; }

timed() { # label cmd… -> runs cmd, stdout to $OUT/label.out, prints "seconds peak_rss_mb"
  local label="$1"; shift
  # An import that rejected rows exits 1 but stored the rest: say so, go on.
  /usr/bin/time -f "%e %M" -o "$OUT/$label.time" "$@" > "$OUT/$label.out" 2> "$OUT/$label.err" \
    || echo "warning: $label exited non-zero; see $OUT/$label.err" >&2
  tail -1 "$OUT/$label.time" | awk '{printf "%s %.0f", $1, $2 / 1024}'
}

# With SCALE_REUSE=1, a size whose data folder and import reports are already
# in $OUT is not generated and imported again (its import figures are read
# back from those reports): rerun the serving and allocation steps alone.
imported() { # size
  [ "${SCALE_REUSE:-0}" = 1 ] && [ -d "$OUT/data-$1" ] && [ -s "$OUT/import-demands-$1.time" ]
}
rss_of() { tail -1 "$OUT/$1.time" | awk '{printf "%s %.0f", $1, $2 / 1024}'; }

for size in "${SIZES[@]}"; do
  n=$(count "$size")
  data="$OUT/data-$size"
  if imported "$size"; then
    echo "reusing $data and its import reports" >&2
    read -r offers_s offers_rss <<< "$(rss_of "import-offers-$size")"
    read -r demands_s demands_rss <<< "$(rss_of "import-demands-$size")"
  else
    rm -rf "$data" "$OUT/in-$size"
    python3 bench/scale/gen_market.py "$n" "$OUT/in-$size" >&2
    read -r offers_s offers_rss <<< "$(timed "import-offers-$size" "$BIN" import offers "$OUT/in-$size/offers.csv" --data-dir "$data")"
    read -r demands_s demands_rss <<< "$(timed "import-demands-$size" "$BIN" import demands "$OUT/in-$size/demands.csv" --data-dir "$data")"
  fi
  # Rows/s of the store (the import's own figure, without the index catch-up it runs after).
  # (An older build prints no rate: then rows over the command's wall time.)
  offers_rps=$(grep -o '([0-9]* rows/s' "$OUT/import-offers-$size.out" | tr -dc 0-9 || true)
  offers_rps=${offers_rps:-$(awk -v n="$n" -v s="$offers_s" 'BEGIN { printf "%.0f", n / s }')}
  demands_rps=$(grep -o '([0-9]* rows/s' "$OUT/import-demands-$size.out" | tr -dc 0-9 || true)
  demands_rps=${demands_rps:-$(awk -v n="$n" -v s="$demands_s" 'BEGIN { printf "%.0f", n / s }')}
  index_s=$(cat "$OUT/import-offers-$size.out" "$OUT/import-demands-$size.out" | { grep -o 'applied in [0-9.]*' || true; } | awk '{s += $3} END {print s + 0}')
  pg='null'
  if [ -n "${SCALE_PG:-}" ] && imported "$size" && [ -s "$OUT/pg-demands-$size.out" ]; then
    pg="{\"offers_rows_per_s\":$(grep -o '([0-9]* rows/s' "$OUT/pg-offers-$size.out" | tr -dc 0-9),\"demands_rows_per_s\":$(grep -o '([0-9]* rows/s' "$OUT/pg-demands-$size.out" | tr -dc 0-9)}"
  elif [ -n "${SCALE_PG:-}" ]; then
    pgdb="wantloop_scale_$size"
    pgurl="${SCALE_PG%/*}/$pgdb"
    dropdb --if-exists -h 127.0.0.1 -U postgres "$pgdb" && createdb -h 127.0.0.1 -U postgres "$pgdb"
    timed "pg-offers-$size" "$BIN" import offers "$OUT/in-$size/offers.csv" --data-dir "$OUT/pg-$size" --database-url "$pgurl" > /dev/null
    timed "pg-demands-$size" "$BIN" import demands "$OUT/in-$size/demands.csv" --data-dir "$OUT/pg-$size" --database-url "$pgurl" > /dev/null
    pg_offers=$(grep -o '([0-9]* rows/s' "$OUT/pg-offers-$size.out" | tr -dc 0-9)
    pg_demands=$(grep -o '([0-9]* rows/s' "$OUT/pg-demands-$size.out" | tr -dc 0-9)
    pg="{\"offers_rows_per_s\":$pg_offers,\"demands_rows_per_s\":$pg_demands}"
    dropdb -h 127.0.0.1 -U postgres "$pgdb"; rm -rf "$OUT/pg-$size"
  fi
  start_serve "$data"
  first_ready_s=$READY_S
  search=$(drive "search-$size" GET "/v1/search?q={word}&limit=10" "$n")
  # Latency without queueing: one client, one request at a time.
  search_one=$(CONNECTIONS=1 drive "search1-$size" GET "/v1/search?q={word}&limit=10" "$n")
  candidates=$(drive "candidates-$size" GET "/v1/demands/{id}/candidates" "$n")
  reverse=$(drive "reverse-$size" GET "/v1/offers/{id}/demands" "$n")
  stop_serve
  # Batch allocation over the market as imported (a dry run: nothing written).
  read -r alloc_s alloc_rss <<< "$(timed "allocate-$size" "$BIN" allocate --dry-run --json --data-dir "$data")"
  alloc=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps({k: r.get(k) for k in ["demands","offers","edges","planned_units","candidate_seconds","solve_seconds","total_seconds"]}))' "$OUT/allocate-$size.out")
  # A restart on a persisted, current index: what an operator waits for.
  start_serve "$data"
  ready_s=$READY_S
  match=$(drive "match-$size" POST "/v1/demands/{id}/match" "$n")
  post=$(drive "post-$size" POST "/v1/demands" "$n" \
    '{"requester":"bench{id}","text":"想买一台屏幕清晰、电池耐用的平板电脑","category":"tablets","budget":300000,"location":{"lat":31.23,"lon":121.47},"max_distance_km":30}')
  rss_serve=$(ps -o rss= -p "$SERVE_PID" | awk '{printf "%.0f", $1 / 1024}')
  stop_serve
  line=$(cat <<JSON
{"size":"$size","offers":$n,"demands":$n,"import":{"offers_rows_per_s":$offers_rps,"demands_rows_per_s":$demands_rps,"offers_seconds":$offers_s,"demands_seconds":$demands_s,"peak_rss_mb":$(( offers_rss > demands_rss ? offers_rss : demands_rss )),"index_catch_up_seconds":$index_s},"import_postgres":$pg,"serve_first_start_seconds":$first_ready_s,"serve_ready_seconds":$ready_s,"serve_rss_mb":$rss_serve,"search_uncached":$search,"search_uncached_1_client":$search_one,"candidates":$candidates,"offer_demands":$reverse,"match":$match,"post_demand":$post,"allocate":$alloc,"allocate_wall_seconds":$alloc_s,"allocate_peak_rss_mb":$alloc_rss}
JSON
)
  echo "$line" > "$OUT/line-$size.json"
  echo "$line" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' | tee -a "$OUT/results.jsonl"
done

# The growth curves as a picture (matplotlib in a virtualenv of its own).
VENV="${HOME}/.cache/wantloop/venvs/plot"
[ -x "$VENV/bin/python" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q matplotlib >&2; }
"$VENV/bin/python" bench/scale/plot.py "$OUT/results.jsonl" "${SCALE_PLOT:-$OUT/growth.png}" >&2
