#!/usr/bin/env bash
# Ticket PDFs with a QR code, side by side on this machine: `herald bench documents` (tickets
# made by the job engine in batches: PDF, QR, durable files and rows) against the Node.js peer
# bench/peers/pdfkit/tickets.js (pdfkit + qrcode, the same ticket content, PDFs kept in memory,
# one worker thread per CPU). Usage: bench/pdfkit_bench.sh [tickets] [herald binary]
# Needs Node.js >= 20 and npm; runs `npm ci` in bench/peers/pdfkit if node_modules is missing.
# Figures go to docs/PERFORMANCE.md by hand.
set -euo pipefail
TICKETS=${1:-10000}
HERALD=${2:-build/release/herald}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEER=$ROOT/bench/peers/pdfkit
[ -x "$HERALD" ] || { echo "no herald binary at $HERALD" >&2; exit 1; }
{ command -v node && command -v npm; } >/dev/null ||
  { echo "node and npm are missing: install Node.js >= 20" >&2; exit 1; }
[ -d "$PEER/node_modules" ] || (cd "$PEER" && npm ci --no-audit --no-fund >&2)
"$HERALD" bench documents --tickets "$TICKETS"
node "$PEER/tickets.js" --tickets "$TICKETS" --warmup 500
node "$PEER/tickets.js" --tickets "$TICKETS" --warmup 500 --qr-png
