#!/usr/bin/env bash
# Door-scan benchmark with wrk (Debian) on loopback, against a fresh `herald serve`:
#   POST /api/scans/validate with keep-alive, signed QR codes of one event.
# It issues TICKETS signed tickets (10,000 per request), then wrk scans their codes in turn
# (each connection starts at its own offset), so the first pass over the codes admits and
# later passes answer "already_used"; each run prints how many of its scans were admissions.
# Every scan is a durable write (the scan log).
# Usage: bench/scan_bench.sh [herald binary] [seconds] [connections...]
# Prints wrk's reports and the server's counts; figures go to docs/PERFORMANCE.md by hand.
set -euo pipefail
HERALD=${1:-build/release/herald}
SECONDS_RUN=${2:-10}
CONNECTIONS=(16 64)
if [ $# -gt 2 ]; then CONNECTIONS=("${@:3}"); fi
TICKETS=${TICKETS:-200000}
PORT=${PORT:-18432}
DIR=$(mktemp -d /tmp/herald-scan-bench.XXXXXX)
# The per-caller rate limit is lifted: the benchmark is one caller at full speed.
export HERALD_STORE_PATH="$DIR/herald.db" HERALD_HTTP_PORT=$PORT HERALD_LOG_LEVEL=warn \
  HERALD_HTTP_RATE_LIMIT_WRITE=0 HERALD_HTTP_RATE_LIMIT_READ=0 \
  HERALD_MAINTENANCE_CHECK_SCHEDULE=
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps" >&2; exit 1; }
PY=/usr/bin/python3

"$HERALD" serve > "$DIR/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
# A server that failed to start (say, the port is taken) must not leave wrk measuring another.
kill -0 $SERVER 2>/dev/null || { echo "herald serve exited:" >&2; cat "$DIR/serve.log" >&2; exit 1; }

echo 'a bench passphrase' | "$HERALD" users add --email bench@example.com --role admin \
  --password-stdin >/dev/null
TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/auth/login" \
  -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.com","password":"a bench passphrase"}' |
  $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])')
api() {
  curl -sf -X "$1" "http://127.0.0.1:$PORT$2" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' ${3:+-d "$3"}
}

START=$($PY -c 'import datetime; print((datetime.datetime.utcnow()+datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
api POST /api/events "{\"id\":1,\"title\":\"Bench\",\"event_date\":\"$START\"}" >/dev/null
$PY -c "import json; print(json.dumps({'tickets':[{'seat':'A'}]*10000}))" > "$DIR/batch.json"
ISSUE_START=$(date +%s.%N)
for _ in $(seq $((TICKETS / 10000))); do
  api POST /api/events/1/tickets "@$DIR/batch.json" |
    $PY -c 'import json,sys; [print(t["qr_code_data"]) for t in json.load(sys.stdin)["data"]]' \
      >> "$DIR/codes.txt"
done
ISSUE_END=$(date +%s.%N)
echo "== issued $(wc -l < "$DIR/codes.txt") signed tickets in $($PY -c "print(round($ISSUE_END-$ISSUE_START,2))") s"

cat > "$DIR/scan.lua" <<LUA
local codes = {}
for line in io.lines("$DIR/codes.txt") do codes[#codes + 1] = line end
local threads = 0
function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end
local i = 0
function request()
  i = i + 1
  local c = codes[(offset + i) % #codes + 1]
  return wrk.format("POST", "/api/scans/validate",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $TOKEN"},
    '{"ticket_code":"' .. c .. '","event_id":1,"gate":"A","operator_id":"op-1"}')
end
LUA

# The server's CPU time (user + system, in clock ticks) so far.
cpu() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
# Tickets admitted so far: a run's admissions are durable writes of three rows, its
# "already_used" answers of one (the scan log's).
admitted() { api GET /api/events/1/scan-stats | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["admitted"])'; }
for c in "${CONNECTIONS[@]}"; do
  echo "== POST /api/scans/validate, $c connections, ${SECONDS_RUN}s"
  A0=$(admitted)
  C0=$(cpu)
  wrk -t2 -c"$c" -d"${SECONDS_RUN}s" --latency -s "$DIR/scan.lua" "http://127.0.0.1:$PORT" |
    tee "$DIR/wrk.out"
  C1=$(cpu)
  N=$(grep -oE "^ +[0-9]+ requests" "$DIR/wrk.out" | grep -oE "[0-9]+")
  # Less sensitive than requests/s to this machine's changing speed: compare builds with it.
  echo "server CPU per request: $(( (C1 - C0) * 1000000 / $(getconf CLK_TCK) / N )) us"
  echo "admissions: $(( $(admitted) - A0 )) of $N scans"
done
echo "== server counts"
api GET /api/events/1/scan-stats | $PY -c 'import json,sys; d=json.load(sys.stdin)["data"]; print({k: d[k] for k in ("tickets","admitted","scans","by_reason")})'
