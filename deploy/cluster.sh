#!/usr/bin/env bash
# Starts N wantloop nodes on one PostgreSQL, Redis and NATS, with nginx in
# front on loopback, and prints where. `deploy/cluster.sh stop` stops them.
#
# Usage: deploy/cluster.sh N            (default 3)
#        deploy/cluster.sh stop
#   WANTLOOP_BIN=path      the binary (default: the release build, built if missing)
#   CLUSTER_DIR=/tmp/wantloop-cluster   nodes' data folders, logs, nginx prefix
#   CLUSTER_PORT=8080      nginx's port; nodes take the next N ports
#   CLUSTER_PG=postgres://postgres@127.0.0.1:5432   server; database wantloop_cluster is created
#   CLUSTER_REDIS=redis://127.0.0.1:6379  CLUSTER_NATS=nats://127.0.0.1:4222
#   CLUSTER_FRESH=1        drop and recreate the database and the Redis keys first
# nginx comes from Debian's packages and is installed if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
DIR="${CLUSTER_DIR:-/tmp/wantloop-cluster}"
PORT="${CLUSTER_PORT:-8080}"
PG="${CLUSTER_PG:-postgres://postgres@127.0.0.1:5432}"
REDIS="${CLUSTER_REDIS:-redis://127.0.0.1:6379}"
NATS="${CLUSTER_NATS:-nats://127.0.0.1:4222}"
DB="wantloop_cluster"

stop() {
  if [ -f "$DIR/nginx/nginx.pid" ]; then
    nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -s stop 2> /dev/null || true
  fi
  for pidfile in "$DIR"/node-*.pid; do
    [ -f "$pidfile" ] || continue
    kill "$(cat "$pidfile")" 2> /dev/null || true
    rm -f "$pidfile"
  done
}

if [ "${1:-}" = stop ]; then
  stop
  echo "stopped the cluster in $DIR"
  exit 0
fi
N="${1:-3}"
[[ "$N" =~ ^[1-9][0-9]?$ ]] || { echo "error: N must be a number of nodes from 1 to 99" >&2; exit 2; }

if [ -z "${WANTLOOP_BIN:-}" ]; then
  WANTLOOP_BIN="${CARGO_TARGET_DIR:-$HOME/.cache/wantloop/target}/release/wantloop"
  [ -x "$WANTLOOP_BIN" ] || cargo build --release -p wantloop >&2
fi
if ! command -v nginx > /dev/null; then
  echo "installing nginx from Debian's packages" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y nginx-light >&2 || apt-get install -y nginx >&2
  else sudo apt-get install -y nginx-light >&2 || sudo apt-get install -y nginx >&2; fi
fi

stop
mkdir -p "$DIR/nginx/logs" "$DIR/nginx/tmp"
if [ "${CLUSTER_FRESH:-0}" = 1 ]; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" > /dev/null
  redis-cli -u "$REDIS" --scan --pattern 'wantloop-cluster:*' | xargs -r redis-cli -u "$REDIS" del > /dev/null
fi
psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
  || psql "$PG/postgres" -qc "CREATE DATABASE $DB" > /dev/null

servers=""
for i in $(seq 1 "$N"); do
  node_port=$((PORT + i))
  mkdir -p "$DIR/node-$i"
  "$WANTLOOP_BIN" serve --listen "127.0.0.1:$node_port" --data-dir "$DIR/node-$i" \
    --database-url "$PG/$DB" --redis-url "$REDIS" --redis-prefix wantloop-cluster: \
    --nats-url "$NATS" --nats-prefix wantloop-cluster. --trust-forwarded-for \
    > "$DIR/node-$i.log" 2>&1 &
  echo $! > "$DIR/node-$i.pid"
  servers="$servers        server 127.0.0.1:$node_port max_fails=2 fail_timeout=5s;\n"
done
# The shipped config with these nodes as its upstream servers and this port.
awk -v servers="$servers" -v port="$PORT" '
  /-- upstream servers/ { print; printf "%s", servers; skip = 1; next }
  /-- end of upstream servers/ { skip = 0 }
  skip { next }
  { sub(/listen 127\.0\.0\.1:8080;/, "listen 127.0.0.1:" port ";"); print }
' "$ROOT/deploy/nginx.conf" > "$DIR/nginx/nginx.conf"

for i in $(seq 1 "$N"); do
  for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$((PORT + i))/readyz" > /dev/null && break
    kill -0 "$(cat "$DIR/node-$i.pid")" 2> /dev/null || { echo "error: node $i stopped; see $DIR/node-$i.log" >&2; exit 1; }
    sleep 0.2
  done
done
nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf"
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null || { echo "error: nginx does not answer; see $DIR/nginx/logs/error.log" >&2; exit 1; }
echo "wantloop cluster: $N nodes behind nginx on http://127.0.0.1:$PORT (nodes on ports $((PORT + 1))-$((PORT + N)), logs in $DIR)"
echo "cluster view: curl -s http://127.0.0.1:$PORT/v1/cluster; stop with: deploy/cluster.sh stop"
