#!/usr/bin/env node
// Signs and verifies webhooks with the official packages, so the C++ tests in
// src/webhooks/signatures_test.cc can check Herald's signatures against them byte for byte.
// Needs `npm ci` in this directory first.
//
// Input on stdin and output on stdout are JSON lines, one object per case.
//
//   node sign.js sign
//     in:  {"payload", "timestamp" (Unix seconds), "stripe_secret", "standard_secret", "id"}
//     out: {"stripe_header":      stripe.webhooks.generateTestHeaderString(...),
//           "standard_signature": new Webhook(standard_secret).sign(id, date, payload)}
//
//   node sign.js verify
//     in:  {"scheme": "stripe", "payload", "secret", "header"} or
//          {"scheme": "standard", "payload", "secret", "id", "timestamp", "signature"}
//     out: {"ok": true} or {"ok": false, "error": "<message>"}; both libraries check the
//          timestamp against the real clock with a 5-minute tolerance.
//     The exit status is 1 if any case failed to verify.
//
// Exit status 2 on bad usage or input, 3 if the packages are not installed.

'use strict';

const fs = require('fs');

let stripe;
let Webhook;
try {
  stripe = require('stripe');
  ({Webhook} = require('standardwebhooks'));
} catch (e) {
  process.stderr.write(
      `sign.js: cannot load the stripe and standardwebhooks packages (${e.message}); ` +
      `run \`npm ci\` in ${__dirname}\n`);
  process.exit(3);
}

const STRIPE_TOLERANCE_SECONDS = 300;

function readCases() {
  return fs.readFileSync(0, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line));
}

function sign(c) {
  return {
    stripe_header: stripe.webhooks.generateTestHeaderString({
      payload: c.payload,
      secret: c.stripe_secret,
      timestamp: c.timestamp,
    }),
    standard_signature:
        new Webhook(c.standard_secret).sign(c.id, new Date(c.timestamp * 1000), c.payload),
  };
}

function verify(c) {
  try {
    if (c.scheme === 'stripe') {
      stripe.webhooks.signature.verifyHeader(
          c.payload, c.header, c.secret, STRIPE_TOLERANCE_SECONDS);
    } else if (c.scheme === 'standard') {
      new Webhook(c.secret).verify(
          c.payload,
          {
            'webhook-id': c.id,
            'webhook-timestamp': c.timestamp,
            'webhook-signature': c.signature,
          },
          {jsonParse: false});
    } else {
      return {ok: false, error: `unknown scheme ${JSON.stringify(c.scheme)}`};
    }
    return {ok: true};
  } catch (e) {
    return {ok: false, error: e.message};
  }
}

function main() {
  const mode = process.argv[2];
  if (mode !== 'sign' && mode !== 'verify') {
    process.stderr.write('usage: node sign.js sign|verify < cases.jsonl\n');
    process.exit(2);
  }
  let cases;
  try {
    cases = readCases();
  } catch (e) {
    process.stderr.write(`sign.js: bad input: ${e.message}\n`);
    process.exit(2);
  }
  let failed = false;
  for (const c of cases) {
    const result = mode === 'sign' ? sign(c) : verify(c);
    if (result.ok === false) failed = true;
    process.stdout.write(JSON.stringify(result) + '\n');
  }
  // exitCode rather than exit(): lets stdout drain first.
  process.exitCode = failed ? 1 : 0;
}

main();
