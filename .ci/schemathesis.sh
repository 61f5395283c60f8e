#!/usr/bin/env bash
# Runs schemathesis (pinned, in a virtualenv this script creates) against a
# served instance seeded with demo data: every phase (examples, coverage,
# fuzzing, stateful), the conformance checks, at least MIN_CASES generated
# cases. Fails on any failure or error, or on too few cases. Revoking keys is
# left out: a generated id could revoke the run's own key and turn the rest
# of the run into 401s (the access tests cover revocation).
#
# Usage: .ci/schemathesis.sh [MIN_CASES]   (needs the release binary)
set -euo pipefail
cd "$(dirname "$0")/.."
# Image bodies for the image routes (raw bytes; see the hooks file).
export SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$(pwd)/.ci${PYTHONPATH:+:$PYTHONPATH}"

MIN_CASES="${1:-10000}"
SCHEMATHESIS_VERSION=4.32.5
TARGET="${CARGO_TARGET_DIR:-$HOME/.cache/wantloop/target}"
BIN="$TARGET/release/wantloop"
VENV="${WANTLOOP_VENV_DIR:-$HOME/.cache/wantloop/venvs}/schemathesis-$SCHEMATHESIS_VERSION"
# Cases per operation: ~32 operations, and some hit their limits early.
PER_OPERATION="${SCHEMATHESIS_EXAMPLES:-400}"

if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Seed the store so that ids in generated requests can exist.
"$BIN" demo --data-dir "$WORK/data" --offers 200 --demands 300 --no-serve > /dev/null
# Every request carries an admin key; `ignored_auth` checks that each keyed
# operation refuses a request without one.
KEY="$("$BIN" keys create --role admin --name schemathesis --data-dir "$WORK/data" 2> /dev/null)"
# The rate limit is off: one client sends everything. Retraining stays
# reachable through the API, never scheduled in the background.
WANTLOOP_LOG=warn "$BIN" serve --data-dir "$WORK/data" --listen 127.0.0.1:0 --rate-limit 0 --no-retrain \
  > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 100); do
  URL="$(grep -o 'http://[0-9.:]*' "$WORK/serve.out" | head -n1 || true)"
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || { echo "the server did not start:"; cat "$WORK/serve.err"; exit 1; }

set +e
# Run from the scratch folder: schemathesis keeps a cache where it runs.
cd "$WORK"
timeout 1500 "$VENV/bin/schemathesis" run "$URL/openapi.json" \
  --header "Authorization: Bearer $KEY" \
  --exclude-path '/v1/keys/{id}/revoke' \
  --checks not_a_server_error,ignored_auth,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,use_after_free,ensure_resource_availability \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$PER_OPERATION" --workers 2 --seed 20261203 --request-timeout 60 \
  --suppress-health-check all 2>&1 | tee "$WORK/schemathesis.log"
status=${PIPESTATUS[0]}
set -e
generated="$(grep -Eo '[0-9]+ generated' "$WORK/schemathesis.log" | tail -n1 | grep -Eo '[0-9]+' || echo 0)"
echo "schemathesis: $generated cases generated (at least $MIN_CASES required), exit status $status"
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "the server died during the run:"; tail -n 50 "$WORK/serve.err"; exit 1
fi
[ "$status" -eq 0 ] || exit "$status"
[ "$generated" -ge "$MIN_CASES" ] || { echo "too few cases"; exit 1; }
