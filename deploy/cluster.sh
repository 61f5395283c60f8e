#!/usr/bin/env bash
# Starts N wantloop nodes on one PostgreSQL, Redis and NATS, with nginx in
# front on loopback, and prints where. `deploy/cluster.sh stop` stops them.
#
# Usage: deploy/cluster.sh N            (default 3)
#        deploy/cluster.sh restart I    (starts node I again with the settings `N` saved in
#                                        CLUSTER_DIR/settings; waits until it is ready)
#        deploy/cluster.sh stop
#   WANTLOOP_BIN=path      the binary (default: the release build, built if missing)
#   CLUSTER_DIR=/tmp/wantloop-cluster   nodes' data folders, logs, nginx prefix
#   CLUSTER_PORT=8080      nginx's port; nodes take the next N ports
#   CLUSTER_PG=postgres://postgres@127.0.0.1:5432   server; database wantloop_cluster is created
#   CLUSTER_REDIS=redis://127.0.0.1:6379  CLUSTER_NATS=nats://127.0.0.1:4222
#   CLUSTER_DB=wantloop_cluster   the database, also the prefix of the Redis keys and NATS subjects
#   CLUSTER_FRESH=1        drop and recreate the database and the Redis keys first
#   CLUSTER_NODE_FLAGS="--allocate-every 10"   more `wantloop serve` flags for every node
#   CLUSTER_SHOW_UPSTREAM=1   nginx names the node that answered in an X-Upstream header
# Every request needs a key: the admin key it makes is in CLUSTER_DIR/admin.key.
# nginx comes from Debian's packages and is installed if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
DIR="${CLUSTER_DIR:-/tmp/wantloop-cluster}"
PORT="${CLUSTER_PORT:-8080}"
PG="${CLUSTER_PG:-postgres://postgres@127.0.0.1:5432}"
REDIS="${CLUSTER_REDIS:-redis://127.0.0.1:6379}"
NATS="${CLUSTER_NATS:-nats://127.0.0.1:4222}"
DB="${CLUSTER_DB:-wantloop_cluster}"
[[ "$DB" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "error: CLUSTER_DB must be a lower-case SQL name" >&2; exit 2; }
read -r -a NODE_FLAGS <<< "${CLUSTER_NODE_FLAGS:-}"

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

# Deletes this deployment's JetStream streams: a new database numbers its
# events from 1 again, and the stream's de-duplication (by event id) would
# drop them as already seen. Speaks the NATS protocol directly (no nats CLI).
delete_nats_streams() {
  python3 - "$NATS" "$DB" << 'PY'
import re, socket, sys
host, port = re.match(r"nats://([^:/]+):?(\d*)", sys.argv[1]).groups()
base = re.sub(r"[^A-Za-z0-9]", "_", sys.argv[2]).upper().strip("_")
with socket.create_connection((host, int(port or 4222)), timeout=5) as s:
    f = s.makefile("rb")
    f.readline()  # INFO
    s.sendall(b'CONNECT {"verbose":false}\r\nSUB _INBOX.wantloop_reset 1\r\n')
    for kind in ("EVENTS", "WORK"):
        s.sendall(f"PUB $JS.API.STREAM.DELETE.{base}_{kind} _INBOX.wantloop_reset 0\r\n\r\n".encode())
    replies = 0
    while replies < 2:
        line = f.readline()
        if line.startswith(b"PING"):
            s.sendall(b"PONG\r\n")
        elif line.startswith(b"MSG"):
            f.read(int(line.split()[-1]) + 2)
            replies += 1
        elif not line:
            break
PY
}

# Starts node $1 (its port is PORT + $1) in the background.
start_node() {
  local i="$1" node_port=$((PORT + $1))
  mkdir -p "$DIR/node-$i"
  "$WANTLOOP_BIN" serve --listen "127.0.0.1:$node_port" --data-dir "$DIR/node-$i" \
    --database-url "$PG/$DB" --redis-url "$REDIS" --redis-prefix "$DB:" \
    --nats-url "$NATS" --nats-prefix "$DB." --trust-forwarded-for "${NODE_FLAGS[@]}" \
    >> "$DIR/node-$i.log" 2>&1 &
  echo $! > "$DIR/node-$i.pid"
}

# Waits until node $1 answers /readyz.
await_node() {
  local i="$1"
  for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$((PORT + i))/readyz" > /dev/null && return
    kill -0 "$(cat "$DIR/node-$i.pid")" 2> /dev/null || { echo "error: node $i stopped; see $DIR/node-$i.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "error: node $i is not ready after 30 s; see $DIR/node-$i.log" >&2
  exit 1
}

find_binary() {
  if [ -z "${WANTLOOP_BIN:-}" ]; then
    WANTLOOP_BIN="${CARGO_TARGET_DIR:-$HOME/.cache/wantloop/target}/release/wantloop"
    [ -x "$WANTLOOP_BIN" ] || cargo build --release -p wantloop >&2
  fi
}

if [ "${1:-}" = restart ]; then
  i="${2:-}"
  [[ "$i" =~ ^[1-9][0-9]?$ ]] || { echo "error: restart needs a node number" >&2; exit 2; }
  [ -f "$DIR/settings" ] || { echo "error: no cluster was started in $DIR" >&2; exit 1; }
  # shellcheck source=/dev/null
  source "$DIR/settings"
  if [ -f "$DIR/node-$i.pid" ]; then
    old="$(cat "$DIR/node-$i.pid")"
    kill "$old" 2> /dev/null || true
    # Its port is free only once it has exited.
    for _ in $(seq 1 100); do
      kill -0 "$old" 2> /dev/null || break
      sleep 0.1
    done
  fi
  start_node "$i"
  await_node "$i"
  exit 0
fi

if [ "${1:-}" = stop ]; then
  stop
  echo "stopped the cluster in $DIR"
  exit 0
fi
N="${1:-3}"
[[ "$N" =~ ^[1-9][0-9]?$ ]] || { echo "error: N must be a number of nodes from 1 to 99" >&2; exit 2; }

find_binary
if ! command -v nginx > /dev/null; then
  echo "installing nginx from Debian's packages" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y nginx-light >&2 || apt-get install -y nginx >&2
  else sudo apt-get install -y nginx-light >&2 || sudo apt-get install -y nginx >&2; fi
fi

stop
mkdir -p "$DIR/nginx/logs" "$DIR/nginx/tmp"
# What `restart` needs to start a node exactly as this run did.
declare -p PORT PG REDIS NATS DB NODE_FLAGS WANTLOOP_BIN > "$DIR/settings"
if [ "${CLUSTER_FRESH:-0}" = 1 ]; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" > /dev/null
  redis-cli -u "$REDIS" --scan --pattern "$DB:*" | xargs -r redis-cli -u "$REDIS" del > /dev/null
  rm -rf "$DIR"/node-*/ "$DIR"/node-*.log
  delete_nats_streams
fi
psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
  || psql "$PG/postgres" -qc "CREATE DATABASE $DB" > /dev/null
# Every request needs a key: an admin key for the operator (and the
# benchmark), made once per database and kept in $DIR/admin.key.
if [ ! -s "$DIR/admin.key" ] || [ "${CLUSTER_FRESH:-0}" = 1 ]; then
  (umask 077; "$WANTLOOP_BIN" keys create --role admin --name "deploy/cluster.sh" --database-url "$PG/$DB" \
    > "$DIR/admin.key" 2> /dev/null) || { echo "error: cannot create the admin key" >&2; exit 1; }
fi

servers=""
for i in $(seq 1 "$N"); do
  start_node "$i"
  servers="$servers        server 127.0.0.1:$((PORT + i)) max_fails=2 fail_timeout=5s;\n"
done
# The shipped config with these nodes as its upstream servers and this port.
awk -v servers="$servers" -v port="$PORT" -v show="${CLUSTER_SHOW_UPSTREAM:-0}" '
  /-- upstream servers/ { print; printf "%s", servers; skip = 1; next }
  show == 1 && /location \/ \{/ { print; print "            add_header X-Upstream $upstream_addr always;"; next }
  /-- end of upstream servers/ { skip = 0 }
  skip { next }
  { sub(/listen 127\.0\.0\.1:8080;/, "listen 127.0.0.1:" port ";"); print }
' "$ROOT/deploy/nginx.conf" > "$DIR/nginx/nginx.conf"

for i in $(seq 1 "$N"); do
  await_node "$i"
done
nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf"
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null || { echo "error: nginx does not answer; see $DIR/nginx/logs/error.log" >&2; exit 1; }
echo "wantloop cluster: $N nodes behind nginx on http://127.0.0.1:$PORT (nodes on ports $((PORT + 1))-$((PORT + N)), logs in $DIR)"
echo "admin key in $DIR/admin.key; cluster view: curl -s -H \"Authorization: Bearer \$(cat $DIR/admin.key)\" http://127.0.0.1:$PORT/v1/cluster"
echo "stop with: deploy/cluster.sh stop"
