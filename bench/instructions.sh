#!/usr/bin/env bash
# Instructions per request of a `herald serve` under load, counted by valgrind's callgrind:
# user-space work only (system calls and waiting are not counted), but the same from run to
# run within a few per cent, where requests/s on this kind of shared machine move by 30 %.
# Use it to compare builds; measure throughput with bench/http_bench.sh and scan_bench.sh.
#   enqueue: POST /api/jobs, one no-op job per request (the jobs also run);
#   scan:    POST /api/scans/validate over 3,000 signed tickets of one event.
# Usage: bench/instructions.sh [herald binary] [enqueue|scan] [connections] [seconds]
# Prints one line: requests, instructions, instructions per request. Under valgrind the
# server runs one thread at a time, about 50 times slower: batches (group commits) are
# smaller than at full speed, so per-request figures include more commit overhead.
set -euo pipefail
HERALD=${1:-build/release/herald}
MODE=${2:-enqueue}
CONNECTIONS=${3:-16}
SECONDS_RUN=${4:-12}
PORT=${PORT:-18433}
DIR=$(mktemp -d /tmp/herald-instructions.XXXXXX)
export HERALD_STORE_PATH="$DIR/herald.db" HERALD_HTTP_PORT=$PORT HERALD_LOG_LEVEL=warn \
  HERALD_HTTP_RATE_LIMIT_WRITE=0 HERALD_HTTP_RATE_LIMIT_READ=0 \
  HERALD_MAINTENANCE_CHECK_SCHEDULE=
for tool in wrk valgrind callgrind_control callgrind_annotate; do
  command -v $tool >/dev/null || { echo "$tool is missing: run scripts/install-deps --bench" >&2; exit 1; }
done
PY=/usr/bin/python3

# Counting starts with the load (--instr-atstart=no), so start-up and set-up are left out.
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$DIR/callgrind.out" \
  "$HERALD" serve > "$DIR/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
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

if [ "$MODE" = scan ]; then
  START=$($PY -c 'import datetime; print((datetime.datetime.utcnow()+datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
  api POST /api/events "{\"id\":1,\"title\":\"Bench\",\"event_date\":\"$START\"}" >/dev/null
  $PY -c "import json; print(json.dumps({'tickets':[{'seat':'A'}]*3000}))" > "$DIR/batch.json"
  api POST /api/events/1/tickets "@$DIR/batch.json" |
    $PY -c 'import json,sys; [print(t["qr_code_data"]) for t in json.load(sys.stdin)["data"]]' \
      > "$DIR/codes.txt"
  cat > "$DIR/load.lua" <<LUA
local codes = {}
for line in io.lines("$DIR/codes.txt") do codes[#codes + 1] = line end
local i = 0
function request()
  i = i + 1
  local c = codes[i % #codes + 1]
  return wrk.format("POST", "/api/scans/validate",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $TOKEN"},
    '{"ticket_code":"' .. c .. '","event_id":1,"gate":"A","operator_id":"op-1"}')
end
LUA
  URL="http://127.0.0.1:$PORT"
elif [ "$MODE" = enqueue ]; then
  cat > "$DIR/load.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"type":"noop","queue":"bench","payload":{"n":1}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
  URL="http://127.0.0.1:$PORT/api/jobs"
else
  echo "mode must be enqueue or scan" >&2
  exit 2
fi

callgrind_control -i on $SERVER >/dev/null 2>&1
wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" -s "$DIR/load.lua" "$URL" > "$DIR/wrk.out"
callgrind_control -i off $SERVER >/dev/null 2>&1
callgrind_control -d $SERVER >/dev/null 2>&1
N=$(grep -oE "^ +[0-9]+ requests" "$DIR/wrk.out" | grep -oE "[0-9]+")
# The dump is written by the server's next scheduled thread: wait for it.
for _ in $(seq 50); do
  ls "$DIR"/callgrind.out* >/dev/null 2>&1 && break
  sleep 0.2
done
sleep 1
FILE=$(ls -S "$DIR"/callgrind.out* | head -1)
IR=$(callgrind_annotate "$FILE" 2>/dev/null | grep "PROGRAM TOTALS" | grep -oE "^[0-9,]+" | tr -d ,)
echo "$MODE, $CONNECTIONS connections: requests=$N instructions=$IR per_request=$((IR / N))"
