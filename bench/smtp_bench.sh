#!/usr/bin/env bash
# SMTP sending benchmark on loopback, side by side: `herald bench smtp` (Herald's SMTP
# provider) against Nodemailer's pooled transport (bench/peers/nodemailer/send.js), each
# sending the same N messages over a pool of P connections, no TLS, to two local servers:
#   1. aiosmtpd (tests/integration/smtp_server.py, Debian python3-aiosmtpd), which stores
#      every message, so the script checks that all N arrived; being Python, it caps both
#      senders at roughly 700 messages/s on this machine;
#   2. Postfix's smtp-sink (C, `scripts/install-deps --bench`), which accepts and discards:
#      the senders' own speed.
# Usage: bench/smtp_bench.sh [herald binary] [messages] [pool]
# Prints each sender's JSON line, then what the server saw (messages received, connections);
# fails if a sender fails or the server did not receive all N messages.
# Needs Node.js >= 20 and npm; runs `npm ci` in bench/peers/nodemailer if node_modules is
# missing. Figures go to docs/PERFORMANCE.md by hand.
set -euo pipefail
HERALD=${1:-build/release/herald}
MESSAGES=${2:-5000}
POOL=${3:-5}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEER=$ROOT/bench/peers/nodemailer
PYTHON=/usr/bin/python3 # Debian's, which has aiosmtpd (a pyenv python3 on PATH may not)
DIR=$(mktemp -d /tmp/herald-smtp-bench.XXXXXX)
SERVER=
export HERALD_STORE_PATH="$DIR/herald.db" HERALD_LOG_LEVEL=warn
# `|| true`: under set -e, wait's 143 for the killed server would end the trap before the rm.
stop() { if [ -n "$SERVER" ]; then kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; fi; SERVER=; }
trap 'stop; rm -rf "$DIR"' EXIT

[ -x "$HERALD" ] || { echo "no herald binary at $HERALD" >&2; exit 1; }
"$PYTHON" -c 'import aiosmtpd' 2>/dev/null ||
  { echo "$PYTHON lacks aiosmtpd: run scripts/install-deps" >&2; exit 1; }
{ command -v node && command -v npm; } >/dev/null ||
  { echo "node and npm are missing: install Node.js >= 20" >&2; exit 1; }
[ -d "$PEER/node_modules" ] || (cd "$PEER" && npm ci --no-audit --no-fund >&2)

# Starts a fresh server in $DIR/$1 on a free port: sets SERVER, OUTDIR and PORT.
start_server() {
  OUTDIR=$DIR/$1
  mkdir "$OUTDIR"
  PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$PYTHON" "$ROOT/tests/integration/smtp_server.py" "$PORT" "$OUTDIR" > "$OUTDIR/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do
    [ -f "$OUTDIR/ready" ] && return
    kill -0 $SERVER 2>/dev/null || break
    sleep 0.1
  done
  echo "the SMTP server did not start on port $PORT:" >&2
  cat "$OUTDIR/server.log" >&2
  exit 1
}

# Stops the server and checks that it received all the messages; prints what it saw.
stop_server() {
  stop
  local received connections=0
  received=$(find "$OUTDIR" -name '*.eml' | wc -l)
  if [ -f "$OUTDIR/connections" ]; then connections=$(wc -l < "$OUTDIR/connections"); fi
  echo "server: $received messages received, $connections connections"
  [ "$received" -eq "$MESSAGES" ] ||
    { echo "$1: the server received $received messages of $MESSAGES" >&2; exit 1; }
}

echo "== herald bench smtp, $MESSAGES messages, pool $POOL"
start_server herald
"$HERALD" bench smtp --url "smtp://127.0.0.1:$PORT" --messages "$MESSAGES" --pool "$POOL" ||
  { echo "herald bench smtp failed (exit $?)" >&2; exit 1; }
stop_server herald

echo "== nodemailer pooled transport, $MESSAGES messages, pool $POOL"
start_server nodemailer
node "$PEER/send.js" "$PORT" "$MESSAGES" "$POOL" ||
  { echo "nodemailer send.js failed (exit $?)" >&2; exit 1; }
stop_server nodemailer

SINK=/usr/sbin/smtp-sink
[ -x "$SINK" ] || { echo "no $SINK: run scripts/install-deps --bench" >&2; exit 1; }
start_sink() {
  PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$SINK" -u nobody "127.0.0.1:$PORT" 256 > "$DIR/sink.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do
    "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $PORT)).close()" 2>/dev/null && return
    sleep 0.1
  done
  echo "smtp-sink did not start" >&2
  exit 1
}
echo "== smtp-sink: herald bench smtp, $MESSAGES messages, pool $POOL"
start_sink
"$HERALD" bench smtp --url "smtp://127.0.0.1:$PORT" --messages "$MESSAGES" --pool "$POOL" ||
  { echo "herald bench smtp failed (exit $?)" >&2; exit 1; }
stop
echo "== smtp-sink: nodemailer pooled transport, $MESSAGES messages, pool $POOL"
start_sink
node "$PEER/send.js" "$PORT" "$MESSAGES" "$POOL" ||
  { echo "nodemailer send.js failed (exit $?)" >&2; exit 1; }
stop
