#!/usr/bin/env bash
# HTTP benchmark with wrk (Debian) on loopback, against a fresh `herald serve`:
#   POST /api/jobs (enqueue a no-op job) with keep-alive, and GET /health.
# Usage: bench/http_bench.sh [herald binary] [seconds] [connections]
# Prints wrk's reports; figures go to docs/PERFORMANCE.md by hand.
set -euo pipefail
HERALD=${1:-build/release/herald}
SECONDS_RUN=${2:-10}
CONNECTIONS=${3:-64}
PORT=${PORT:-18431}
DIR=$(mktemp -d /tmp/herald-http-bench.XXXXXX)
# The per-caller rate limit is lifted: the benchmark is one caller at full speed.
export HERALD_STORE_PATH="$DIR/herald.db" HERALD_HTTP_PORT=$PORT HERALD_LOG_LEVEL=warn \
  HERALD_HTTP_RATE_LIMIT_WRITE=0 HERALD_HTTP_RATE_LIMIT_READ=0
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps" >&2; exit 1; }

"$HERALD" serve > "$DIR/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
# A server that failed to start (say, the port is taken) must not leave wrk measuring another.
kill -0 $SERVER 2>/dev/null || { echo "herald serve exited:" >&2; cat "$DIR/serve.log" >&2; exit 1; }

echo 'a bench passphrase' | "$HERALD" users add --email bench@example.com \
  --role operations_manager --password-stdin >/dev/null
TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/auth/login" \
  -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.com","password":"a bench passphrase"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])')

cat > "$DIR/enqueue.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"type":"noop","queue":"bench","payload":{"n":1}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA

# The server's CPU time (user + system, in clock ticks) so far.
cpu() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
echo "== POST /api/jobs, $CONNECTIONS connections, ${SECONDS_RUN}s"
C0=$(cpu)
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -s "$DIR/enqueue.lua" \
  "http://127.0.0.1:$PORT/api/jobs" | tee "$DIR/wrk.out"
C1=$(cpu)
N=$(grep -oE "^ +[0-9]+ requests" "$DIR/wrk.out" | grep -oE "[0-9]+")
# Less sensitive than requests/s to this machine's changing speed: compare builds with it.
echo "server CPU per request: $(( (C1 - C0) * 1000000 / $(getconf CLK_TCK) / N )) us"
echo "== GET /health, $CONNECTIONS connections, ${SECONDS_RUN}s"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency "http://127.0.0.1:$PORT/health"
