#!/usr/bin/env bash
# Instructions per request of a `herald serve` under load, counted by valgrind's callgrind:
# user-space work only (system calls and waiting are not counted), but the same from run to
# run within a few per cent, where requests/s on this kind of shared machine move by 30 %.
# Use it to compare builds; measure throughput with bench/http_bench.sh and scan_bench.sh.
#   enqueue: POST /api/jobs, one no-op job per request (the jobs also run);
#   scan:    POST /api/scans/validate of TICKETS (20,000) signed tickets of one event, each
#            once while they last: admissions, the door's common case (three rows written).
# Usage: bench/instructions.sh [herald binary] [enqueue|scan] [connections] [seconds]
# Prints one line: requests, instructions, instructions per request. CALLGRIND_OUT=FILE keeps
# the profile, for callgrind_annotate. Under valgrind the server runs one thread at a time,
# about 50 times slower: batches (group commits) are smaller than at full speed, so
# per-request figures include more commit overhead.
set -euo pipefail
HERALD=${1:-build/release/herald}
MODE=${2:-enqueue}
CONNECTIONS=${3:-16}
SECONDS_RUN=${4:-12}
case "$MODE" in enqueue | scan) ;; *) echo "mode must be enqueue or scan" >&2; exit 2 ;; esac
PORT=${PORT:-18433}
for tool in wrk valgrind callgrind_control callgrind_annotate; do
  command -v $tool >/dev/null || { echo "$tool is missing: run scripts/install-deps --bench" >&2; exit 1; }
done
DIR=$(mktemp -d /tmp/herald-instructions.XXXXXX)
source "$(dirname "$0")/lib.sh"

# Counting starts with the load (--instr-atstart=no), so start-up and set-up are left out.
bench_serve valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$DIR/callgrind.out"
bench_login admin

if [ "$MODE" = scan ]; then
  bench_event_codes "${TICKETS:-20000}" "$DIR/codes.txt"
  bench_scan_lua "$DIR/codes.txt" "$DIR/load.lua"
  URL="http://127.0.0.1:$PORT"
else
  bench_enqueue_lua "$DIR/load.lua"
  URL="http://127.0.0.1:$PORT/api/jobs"
fi

# callgrind_control reports on stderr even when it succeeds.
control() {
  callgrind_control "$@" $SERVER > "$DIR/control.log" 2>&1 ||
    { echo "callgrind_control $* failed:" >&2; cat "$DIR/control.log" >&2; exit 1; }
}
control -i on
wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" -s "$DIR/load.lua" "$URL" > "$DIR/wrk.out"
control -i off
control -d
N=$(bench_requests)
if [ "$MODE" = scan ] && [ "$N" -gt "$(wc -l < "$DIR/codes.txt")" ]; then
  echo "note: $N scans of $(wc -l < "$DIR/codes.txt") tickets, so not all were admissions" >&2
fi
# The dump is written by the server's next scheduled thread: wait for it.
for _ in $(seq 50); do
  ls "$DIR"/callgrind.out* >/dev/null 2>&1 && break
  sleep 0.2
done
sleep 1
FILE=$(ls -S "$DIR"/callgrind.out* | head -1)
IR=$(callgrind_annotate "$FILE" 2>/dev/null | grep "PROGRAM TOTALS" | grep -oE "^[0-9,]+" | tr -d ,) ||
  { echo "no instruction count in $FILE" >&2; exit 1; }
echo "$MODE, $CONNECTIONS connections: requests=$N instructions=$IR per_request=$((IR / N))"
if [ -n "${CALLGRIND_OUT:-}" ]; then cp "$FILE" "$CALLGRIND_OUT"; fi
