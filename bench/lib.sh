# Sourced by the HTTP benchmarks: a fresh `herald serve` on loopback and a logged-in caller.
# The caller sets HERALD (the binary), PORT and DIR (a scratch directory, removed on exit).
#   bench_serve [wrapper...]  starts `$HERALD serve` (behind the wrapper, e.g. valgrind) with
#                             its store in DIR, waits for /health; sets SERVER
#   bench_login ROLE          adds a user with ROLE and logs it in; sets TOKEN
#   bench_api METHOD PATH [BODY]  an authenticated JSON request; prints the answer
#   bench_enqueue_lua FILE    writes wrk's script for POST /api/jobs (one no-op job)
#   bench_event_codes N FILE  creates event 1 and issues N signed tickets for it (10,000 per
#                             request), appending their codes to FILE
#   bench_scan_lua CODES FILE writes wrk's script for POST /api/scans/validate of the codes
#                             in turn (each wrk thread starts at its own offset)
#   bench_wrk ARGS...         runs wrk with ARGS, prints its report (kept in $DIR/wrk.out)
#                             and the CPU time per request over the run: the server's, and
#                             the whole machine's (busy and idle)
#   bench_requests            the number of requests of the last wrk run

PY=/usr/bin/python3

bench_serve() {
  # The per-caller rate limits are lifted: a benchmark is one caller at full speed.
  export HERALD_STORE_PATH="$DIR/herald.db" HERALD_HTTP_PORT=$PORT HERALD_LOG_LEVEL=warn \
    HERALD_HTTP_RATE_LIMIT_WRITE=0 HERALD_HTTP_RATE_LIMIT_READ=0 \
    HERALD_MAINTENANCE_CHECK_SCHEDULE=
  "$@" "$HERALD" serve > "$DIR/serve.log" 2>&1 &
  SERVER=$!
  trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
    kill -0 $SERVER 2>/dev/null || break
    sleep 0.2
  done
  # A server that failed to start (say, the port is taken) must not leave wrk measuring another.
  if ! kill -0 $SERVER 2>/dev/null; then
    echo "herald serve exited:" >&2
    cat "$DIR/serve.log" >&2
    exit 1
  fi
}

bench_login() {
  echo 'a bench passphrase' | "$HERALD" users add --email bench@example.com --role "$1" \
    --password-stdin >/dev/null
  TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/auth/login" \
    -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"a bench passphrase"}' |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])')
}

bench_api() {
  curl -sf -X "$1" "http://127.0.0.1:$PORT$2" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' ${3:+-d "$3"}
}

bench_enqueue_lua() {
  cat > "$1" <<LUA
wrk.method = "POST"
wrk.body = '{"type":"noop","queue":"bench","payload":{"n":1}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
}

bench_event_codes() {
  local start left=$1 batch
  start=$($PY -c 'import datetime; print((datetime.datetime.utcnow()+datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
  bench_api POST /api/events "{\"id\":1,\"title\":\"Bench\",\"event_date\":\"$start\"}" >/dev/null
  while [ "$left" -gt 0 ]; do
    batch=$((left < 10000 ? left : 10000))
    $PY -c "import json; print(json.dumps({'tickets':[{'seat':'A'}]*$batch}))" > "$DIR/batch.json"
    bench_api POST /api/events/1/tickets "@$DIR/batch.json" |
      $PY -c 'import json,sys; [print(t["qr_code_data"]) for t in json.load(sys.stdin)["data"]]' \
        >> "$2"
    left=$((left - batch))
  done
}

bench_scan_lua() {
  cat > "$2" <<LUA
local codes = {}
for line in io.lines("$1") do codes[#codes + 1] = line end
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
}

# The server's CPU time so far: user + system, in clock ticks.
bench_server_cpu() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }

# The whole machine's CPU time so far, all CPUs, in clock ticks: busy (user, nice, system,
# irq, softirq, steal), then idle (idle, iowait).
bench_machine_cpu() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat; }

bench_requests() { grep -oE "^ +[0-9]+ requests" "$DIR/wrk.out" | grep -oE "[0-9]+"; }

# Microseconds per request of the last wrk run between two clock-tick counts.
bench_per_request() { echo $((($2 - $1) * 1000000 / $(getconf CLK_TCK) / $(bench_requests))); }

bench_wrk() {
  local c0 c1 b0 b1 i0 i1
  c0=$(bench_server_cpu)
  read -r b0 i0 < <(bench_machine_cpu)
  wrk "$@" | tee "$DIR/wrk.out"
  c1=$(bench_server_cpu)
  read -r b1 i1 < <(bench_machine_cpu)
  # Less sensitive than requests/s to this machine's changing speed: compare builds with it.
  # The machine's figures include wrk, which shares its cores, and the kernel's threads.
  echo "server CPU per request: $(bench_per_request "$c0" "$c1") us;" \
    "whole machine: $(bench_per_request "$b0" "$b1") us busy, $(bench_per_request "$i0" "$i1") us idle"
}
