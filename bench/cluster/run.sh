#!/usr/bin/env bash
# The cluster under load and faults: three nodes (deploy/cluster.sh) behind
# nginx on PostgreSQL, Redis and NATS JetStream, CLIENTS clients for SECONDS
# through nginx, a `kill -9` of a random node (every other time the lease
# holder) every few seconds, then the checks of bench/cluster/chaos.py. Prints
# one JSON object; exits 1 if a check failed.
#
# Usage: bench/cluster/run.sh [SECONDS] [CLIENTS]        (default 60 64)
#   WANTLOOP_BIN=path   the binary (default: the release build, built if missing)
#   CLUSTER_PG=postgres://postgres@127.0.0.1:5432  CLUSTER_REDIS=…  CLUSTER_NATS=…  (as deploy/cluster.sh)
#   CHAOS_PORT=18480    nginx's port; the nodes take the next three
#   CHAOS_KILL_EVERY=3:6   seconds between kills (min:max)
# The database wantloop_chaos and its Redis keys and NATS streams are made anew.
set -euo pipefail
cd "$(dirname "$0")/../.."

SECONDS_LOAD="${1:-60}"
CLIENTS="${2:-64}"
export CLUSTER_PORT="${CHAOS_PORT:-18480}"
export CLUSTER_DIR="${CHAOS_DIR:-$(mktemp -d)/cluster}"
export CLUSTER_DB=wantloop_chaos
export CLUSTER_FRESH=1
export CLUSTER_SHOW_UPSTREAM=1
# Short leader periods so that failovers happen within the run; no rate limit
# (every client comes through nginx, one address); scheduled allocation.
export CLUSTER_NODE_FLAGS="--rate-limit 0 --expiry-interval-secs 2 --allocate-every 5"
PG="${CLUSTER_PG:-postgres://postgres@127.0.0.1:5432}"

trap 'deploy/cluster.sh stop > /dev/null' EXIT
deploy/cluster.sh 3 >&2
python3 bench/cluster/chaos.py --port "$CLUSTER_PORT" --nodes 3 --dir "$CLUSTER_DIR" --pg "$PG/$CLUSTER_DB" \
  --seconds "$SECONDS_LOAD" --clients "$CLIENTS" --kill-every "${CHAOS_KILL_EVERY:-3:6}" \
  --cluster-sh deploy/cluster.sh
