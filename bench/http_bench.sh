#!/usr/bin/env bash
# HTTP benchmark with wrk (Debian) on loopback, against a fresh `herald serve`:
#   POST /api/jobs (enqueue a no-op job) with keep-alive, and GET /health.
# Usage: bench/http_bench.sh [herald binary] [seconds] [connections]
# HEALTH=0 leaves out the GET /health run.
# Prints wrk's reports; figures go to docs/PERFORMANCE.md by hand.
set -euo pipefail
HERALD=${1:-build/release/herald}
SECONDS_RUN=${2:-10}
CONNECTIONS=${3:-64}
PORT=${PORT:-18431}
DIR=$(mktemp -d /tmp/herald-http-bench.XXXXXX)
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps" >&2; exit 1; }
source "$(dirname "$0")/lib.sh"

bench_serve
bench_login operations_manager
bench_enqueue_lua "$DIR/enqueue.lua"

echo "== POST /api/jobs, $CONNECTIONS connections, ${SECONDS_RUN}s"
bench_wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -s "$DIR/enqueue.lua" \
  "http://127.0.0.1:$PORT/api/jobs"
if [ "${HEALTH:-1}" != 0 ]; then
  echo "== GET /health, $CONNECTIONS connections, ${SECONDS_RUN}s"
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency "http://127.0.0.1:$PORT/health"
fi
