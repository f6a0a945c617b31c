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
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps" >&2; exit 1; }
source "$(dirname "$0")/lib.sh"

bench_serve
bench_login admin
ISSUE_START=$(date +%s.%N)
bench_event_codes "$TICKETS" "$DIR/codes.txt"
ISSUE_END=$(date +%s.%N)
echo "== issued $(wc -l < "$DIR/codes.txt") signed tickets in $($PY -c "print(round($ISSUE_END-$ISSUE_START,2))") s"
bench_scan_lua "$DIR/codes.txt" "$DIR/scan.lua"

# Tickets admitted so far: a run's admissions are durable writes of three rows, its
# "already_used" answers of one (the scan log's).
admitted() { bench_api GET /api/events/1/scan-stats | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["admitted"])'; }
for c in "${CONNECTIONS[@]}"; do
  echo "== POST /api/scans/validate, $c connections, ${SECONDS_RUN}s"
  A0=$(admitted)
  bench_wrk -t2 -c"$c" -d"${SECONDS_RUN}s" --latency -s "$DIR/scan.lua" "http://127.0.0.1:$PORT"
  echo "admissions: $(( $(admitted) - A0 )) of $(bench_requests) scans"
done
echo "== server counts"
bench_api GET /api/events/1/scan-stats | $PY -c 'import json,sys; d=json.load(sys.stdin)["data"]; print({k: d[k] for k in ("tickets","admitted","scans","by_reason")})'
