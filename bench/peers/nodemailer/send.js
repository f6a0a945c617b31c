#!/usr/bin/env node
// The Nodemailer peer of bench/smtp_bench.sh: Nodemailer's pooled SMTP transport sends COUNT
// messages, the same as Herald's `herald bench smtp`, to a local SMTP server without TLS.
// Usage: node send.js PORT COUNT POOL   (after `npm ci` in this folder)
// Prints one JSON line: peer, version, messages, pool, seconds, per_s, p50_ms, p99_ms. Latency
// is per message, from the sendMail call to its resolution, so it includes the time a message
// waits in the client for a free connection.
'use strict';

const nodemailer = require('nodemailer');
const { version } = require('nodemailer/package.json');

const [port, count, pool] = process.argv.slice(2).map(Number);
if (!(port > 0 && count > 0 && pool > 0)) {
  console.error('usage: node send.js PORT COUNT POOL');
  process.exit(2);
}

// The same message as Herald's: 3000 deterministic bytes of attachment, byte i = (i*37) & 0xff.
const pdf = Buffer.alloc(3000);
for (let i = 0; i < pdf.length; i++) pdf[i] = (i * 37) & 0xff;
const message = (i) => ({
  from: 'Billetterie <billetterie@example.fr>',
  to: `user${i}@example.com`,
  subject: 'Vos billets pour « Fête de la Musique » — 15 €',
  text: 'Bonjour,\nVos billets sont prêts.\n',
  html: '<p>Bonjour,</p><p>Vos billets sont <strong>prêts</strong>.</p>',
  attachments: [{ filename: 'billet.pdf', content: pdf, contentType: 'application/pdf' }],
});

const transport = nodemailer.createTransport({
  host: '127.0.0.1', port, secure: false, ignoreTLS: true,
  pool: true, maxConnections: pool, maxMessages: Infinity,
});

// In flight: 2*POOL sendMail calls at a time (a promise pool), so each pooled connection has
// its next message composed and queued when it frees up. Measured against handing all COUNT
// messages over at once (the pooled transport queues them) and against windows of POOL and
// 4*POOL, 2000 messages, pool 5: the throughput is the same within the run-to-run noise, and
// this window keeps the latency a per-message figure rather than the wait behind the queue.
const WINDOW = 2 * pool;

function percentile(sorted, p) {
  // Nearest rank.
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

async function main() {
  const latencies = new Array(count);
  let next = 0;
  const started = process.hrtime.bigint();
  async function worker() {
    while (next < count) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      await transport.sendMail(message(i));
      latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    }
  }
  await Promise.all(Array.from({ length: Math.min(WINDOW, count) }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  transport.close();
  latencies.sort((a, b) => a - b);
  const round = (x, d) => Number(x.toFixed(d));
  console.log(JSON.stringify({
    peer: 'nodemailer', version, messages: count, pool,
    seconds: round(seconds, 3), per_s: round(count / seconds, 1),
    p50_ms: round(percentile(latencies, 0.5), 3), p99_ms: round(percentile(latencies, 0.99), 3),
  }));
}

main().catch((err) => {
  console.error(`nodemailer send failed: ${err && err.stack ? err.stack : err}`);
  transport.close();
  process.exit(1);
});
