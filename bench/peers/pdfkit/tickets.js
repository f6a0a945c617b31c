#!/usr/bin/env node
// The PDFKit peer of Herald's ticket PDFs: N event tickets made the way a Node.js SaaS makes
// them, with pdfkit + qrcode, spread over W worker threads; it measures tickets per second.
// Each ticket has the same content as Herald's: a 595x283 pt page (A4 width, a third of its
// height; A4 with --a4), DejaVu Sans and DejaVu Sans Bold from the Debian fonts embedded as
// TrueType (pdfkit always embeds a subset: the glyphs used, not the whole font), the event's
// title, date, place, the guest's name, ticket type, seat, ticket code and price, a QR code
// (error correction M) of a 148-character payload that differs for each ticket, a thin
// border and a separator line, compressed streams (pdfkit's default). Each PDF is collected
// in memory and its bytes counted; nothing goes to disk unless --out is given.
//
// Usage (after `npm ci` in this folder):
//   node tickets.js [--tickets N] [--workers W] [--warmup K] [--qr-png | --qr-vector]
//                   [--font-buffer | --font-parsed] [--a4] [--out DIR]
//   --tickets N   tickets in the timed run (default 2000)
//   --workers W   worker threads (default: the number of CPUs)
//   --warmup K    untimed tickets per worker before the timed run (default 50)
//   --font-parsed each worker parses the two fonts once with fontkit and hands the parsed
//                 Font to registerFont in every document (pdfkit >= 0.20; the default: about
//                 6 times faster, since pdfkit otherwise parses the font and decodes its
//                 GSUB/GPOS layout tables again in each document)
//   --font-buffer the font files read once, and the bytes handed to registerFont in every
//                 document, as pdfkit's documentation shows (a path would also re-read the file)
//   --qr-vector   the QR drawn as vector rectangles from QRCode.create()'s modules, one
//                 rectangle per horizontal run of dark modules (the default: the faster)
//   --qr-png      the QR rendered by QRCode.toBuffer() to a PNG and embedded with doc.image(),
//                 the common way
//   --a4          an A4 page instead of the ticket size
//   --out DIR     also write the timed run's PDFs to DIR/ticket-NNNNNN.pdf (after the clock
//                 stops), to check them with pdftotext, pdftoppm and zbarimg
// Prints one JSON line: peer, pdfkit and qrcode versions, tickets, workers, seconds (wall
// time from starting the timed run in all the workers to the last one finishing),
// tickets_per_second, avg_bytes (mean PDF size), then qr (vector or png), font (parsed or
// buffer), page (ticket or a4) and the fontkit version.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const fontkit = require('fontkit');
const PDFDocument = require('pdfkit');
const QRCode = require('qrcode');

const FONT_DIR = '/usr/share/fonts/truetype/dejavu';
const TICKET_SIZE = [595, 283];

function packageVersion(name) {
  // These packages do not export their package.json: find it from the entry point.
  let dir = path.dirname(require.resolve(name));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

function parseArgs(argv) {
  const opts = {
    tickets: 2000, workers: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    warmup: 50, qr: 'vector', font: 'parsed', a4: false, out: null,
  };
  const number = (flag, value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) usage(`${flag} needs a whole number, not ${value}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--tickets') opts.tickets = number(arg, argv[++i]);
    else if (arg === '--workers') opts.workers = number(arg, argv[++i]);
    else if (arg === '--warmup') opts.warmup = number(arg, argv[++i]);
    else if (arg === '--qr-png') opts.qr = 'png';
    else if (arg === '--qr-vector') opts.qr = 'vector';
    else if (arg === '--font-parsed') opts.font = 'parsed';
    else if (arg === '--font-buffer') opts.font = 'buffer';
    else if (arg === '--a4') opts.a4 = true;
    else if (arg === '--out') {
      opts.out = argv[++i];
      if (!opts.out) usage('--out needs a folder');
    } else usage(`unknown argument ${arg}`);
  }
  if (opts.tickets < 1 || opts.workers < 1) usage('--tickets and --workers must be at least 1');
  return opts;
}

function usage(message) {
  console.error(`${message}\nusage: node tickets.js [--tickets N] [--workers W] [--warmup K] ` +
    '[--qr-png | --qr-vector] [--font-buffer | --font-parsed] [--a4] [--out DIR]');
  process.exit(2);
}

// --- One ticket (runs in the workers) ---

// RFC 4648 base32, upper case, no padding: every character is in the QR alphanumeric set,
// the encoding a ticket payload should use (shared/research/ticketing.md, section 5).
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(bytes) {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

// "HT1:" and 90 random bytes in base32: 4 + 144 = 148 characters, a version 6 (41x41) QR at M.
const payload = () => 'HT1:' + base32(crypto.randomBytes(90));

const QR_QUIET_MODULES = 4;

// Fills one rectangle per horizontal run of dark modules, all in one path.
function drawQrVector(doc, text, x, y, side) {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  const unit = side / (n + 2 * QR_QUIET_MODULES);
  const left = x + QR_QUIET_MODULES * unit;
  const top = y + QR_QUIET_MODULES * unit;
  for (let row = 0; row < n; row++) {
    let col = 0;
    while (col < n) {
      if (!modules.data[row * n + col]) { col++; continue; }
      const start = col;
      while (col < n && modules.data[row * n + col]) col++;
      doc.rect(left + start * unit, top + row * unit, (col - start) * unit, unit);
    }
  }
  doc.fill('#000000');
}

async function drawQrPng(doc, text, x, y, side) {
  // qrcode's defaults: 4-module margin, 4 pixels a module.
  const png = await QRCode.toBuffer(text, { errorCorrectionLevel: 'M', type: 'png' });
  doc.image(png, x, y, { width: side, height: side });
}

function makeTicket(n, fonts, opts) {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: opts.a4 ? 'A4' : TICKET_SIZE, margin: 0 });
    const chunks = [];
    doc.on('data', (chunk) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.registerFont('DejaVuSans', fonts.regular);
    doc.registerFont('DejaVuSans-Bold', fonts.bold);

    // The ticket's layout; on an A4 page (--a4) it sits in the top third, border included.
    const [width, height] = TICKET_SIZE;
    const textLeft = 30;
    const textWidth = 340;
    const qrSide = 180;
    const qrX = width - 25 - qrSide;
    const qrY = (height - qrSide) / 2;

    doc.lineWidth(0.75).strokeColor('#000000').rect(10, 10, width - 20, height - 20).stroke();

    doc.fillColor('#000000').font('DejaVuSans-Bold').fontSize(20)
      .text("Festival d'été « Les Nuits » — Édition 2026", textLeft, 26, { width: textWidth });
    const rule = doc.y + 6;
    doc.lineWidth(0.5).moveTo(textLeft, rule).lineTo(textLeft + textWidth, rule).stroke();

    doc.font('DejaVuSans').fontSize(11);
    doc.text('samedi 18 juillet 2026 à 20:30', textLeft, rule + 10, { width: textWidth });
    doc.text('Théâtre du Châtelet, 1 place du Châtelet, 75001 Paris', { width: textWidth });
    doc.moveDown(0.6);
    doc.font('DejaVuSans-Bold').fontSize(13).text(`Élodie Martin-Lefèvre ${n}`, { width: textWidth });
    doc.font('DejaVuSans').fontSize(11);
    doc.text('VIP', { width: textWidth });
    doc.text('Rang C — Siège 12', { width: textWidth });
    doc.text(`TKT-2026-${String(n).padStart(6, '0')}`, { width: textWidth });
    doc.font('DejaVuSans-Bold').fontSize(13).text('89,00 €', { width: textWidth });

    const text = payload();
    const finish = () => doc.end();
    if (opts.qr === 'png') {
      drawQrPng(doc, text, qrX, qrY, qrSide).then(finish, reject);
    } else {
      drawQrVector(doc, text, qrX, qrY, qrSide);
      finish();
    }
  });
}

async function workerMain() {
  const { opts, counter, id } = workerData;
  const next = new Int32Array(counter);
  // Loaded once, as a server would at start-up; each document still makes its own subset.
  const load = (file) => {
    const bytes = fs.readFileSync(path.join(FONT_DIR, file));
    return opts.font === 'parsed' ? fontkit.create(bytes) : bytes;
  };
  const fonts = { regular: load('DejaVuSans.ttf'), bold: load('DejaVuSans-Bold.ttf') };
  for (let i = 0; i < opts.warmup; i++) await makeTicket(900000 + id * 1000 + i, fonts, opts);
  parentPort.postMessage({ type: 'ready' });
  await new Promise((resolve) => parentPort.once('message', resolve));

  let count = 0;
  let bytes = 0;
  const kept = [];
  for (;;) {
    const n = Atomics.add(next, 0, 1) + 1; // ticket numbers 1..N, handed out one at a time
    if (n > opts.tickets) break;
    const pdf = await makeTicket(n, fonts, opts);
    count++;
    bytes += pdf.length;
    if (opts.out) kept.push([n, pdf]);
  }
  parentPort.postMessage({ type: 'done', count, bytes });
  if (opts.out) {
    await new Promise((resolve) => parentPort.once('message', resolve)); // the clock has stopped
    for (const [n, pdf] of kept) {
      fs.writeFileSync(path.join(opts.out, `ticket-${String(n).padStart(6, '0')}.pdf`), pdf);
    }
    parentPort.postMessage({ type: 'written' });
  }
}

// --- The run (main thread) ---

function waitFor(worker, type) {
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`a worker exited (code ${code}) before '${type}'`));
    const onMessage = (message) => {
      if (message.type !== type) return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      worker.off('exit', onExit);
      resolve(message);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', onExit);
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.out) fs.mkdirSync(opts.out, { recursive: true });
  const counter = new SharedArrayBuffer(4);
  const workers = Array.from({ length: opts.workers },
    (_, id) => new Worker(__filename, { workerData: { opts, counter, id } }));
  await Promise.all(workers.map((w) => waitFor(w, 'ready')));

  const done = workers.map((w) => waitFor(w, 'done'));
  const started = process.hrtime.bigint();
  for (const w of workers) w.postMessage('go');
  const results = await Promise.all(done);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  if (opts.out) {
    const written = workers.map((w) => waitFor(w, 'written'));
    for (const w of workers) w.postMessage('write');
    await Promise.all(written);
  }
  await Promise.all(workers.map((w) => w.terminate()));

  const tickets = results.reduce((sum, r) => sum + r.count, 0);
  const bytes = results.reduce((sum, r) => sum + r.bytes, 0);
  if (tickets !== opts.tickets) throw new Error(`made ${tickets} tickets of ${opts.tickets}`);
  const round = (x, d) => Number(x.toFixed(d));
  console.log(JSON.stringify({
    peer: 'pdfkit', pdfkit: packageVersion('pdfkit'), qrcode: packageVersion('qrcode'),
    tickets, workers: opts.workers, seconds: round(seconds, 3),
    tickets_per_second: round(tickets / seconds, 1), avg_bytes: Math.round(bytes / tickets),
    qr: opts.qr, font: opts.font, page: opts.a4 ? 'a4' : 'ticket', fontkit: packageVersion('fontkit'),
  }));
}

if (isMainThread) {
  main().catch((err) => {
    console.error(`pdfkit tickets failed: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  });
} else {
  // Rethrown outside the promise, so the main thread gets the worker's 'error' event.
  workerMain().catch((err) => setImmediate(() => { throw err; }));
}
