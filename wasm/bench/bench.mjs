// Per-call verify time in one Node.js process, for 64 B, 512 B and 64 KiB
// JSON bodies, like with like:
// - parsing JSON: `Webhook#verify(payload, headers)` against the npm
//   `standardwebhooks` package's, the same call (both read the clock, check,
//   and return the parsed body), with one Webhook kept and with one built per
//   request;
// - not parsing: `Webhook#verify({ headers, body, now })` against WebCrypto
//   `subtle.verify` and native `node:crypto` HMAC (the ceiling), keyed once.
// Prints the median of 25 timed batches per contender.
//
// Run by `bash scripts/wasm-package.sh --bench` (in the folder where the
// package is installed from its tarball).
import { createHmac, randomBytes, timingSafeEqual, webcrypto } from 'node:crypto';
import { Webhook as Peer } from 'standardwebhooks';
import { Webhook } from 'webhook-signature-wasm';

const key = randomBytes(24);
const secret = `whsec_${key.toString('base64')}`;
const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
const ours = new Webhook(secret);
const peer = new Peer(key.toString('base64'));
const subtleKey = await webcrypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
const utf8 = new TextEncoder();

async function median(call, rounds = 25) {
  const estimate = performance.now();
  for (let i = 0; i < 50; i++) await call();
  const per = Math.max((performance.now() - estimate) / 50, 0.0005);
  const batch = Math.max(1, Math.round(5 / per)); // about 5 ms per batch
  const times = [];
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await call();
    times.push(Number(process.hrtime.bigint() - start) / batch);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

const rows = [];
// The first pass only warms the JIT up (all sizes, all contenders); the second is reported.
for (const [pass, size] of [1, 2].flatMap((pass) => [64, 512, 65536].map((size) => [pass, size]))) {
  // The peer parses JSON: give every contender the same JSON body of `size` bytes.
  const body = JSON.stringify({ type: 'video.generated', data: 'x'.repeat(size - 38) });
  const bytes = utf8.encode(body);
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = ours.sign(id, timestamp, bytes);
  const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
  const expected = Buffer.from(signature.slice(3), 'base64');
  const rounds = pass === 1 ? 3 : 25;
  const times = {
    oursJson: await median(() => ours.verify(body, headers), rounds),
    peerJson: await median(() => peer.verify(body, headers), rounds),
    oursFresh: await median(() => new Webhook(secret).verify(body, headers), rounds),
    peerFresh: await median(() => new Peer(key.toString('base64')).verify(body, headers), rounds),
    ours: await median(() => ours.verify({ headers, body: bytes, now: timestamp }), rounds),
    webcrypto: await median(() => webcrypto.subtle.verify('HMAC', subtleKey, expected, utf8.encode(`${id}.${timestamp}.${body}`)), rounds),
    'node:crypto': await median(() => {
      const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(bytes).digest();
      if (!timingSafeEqual(mac, expected)) throw new Error('mismatch');
    }, rounds),
  };
  if (pass === 2) rows.push({ size, ...times });
}

const us = (ns) => `${(ns / 1000).toFixed(2)} µs`;
const label = (size) => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);
console.log(`Node.js ${process.version}, one process, median of 25 batches\n`);
console.log('Parsing JSON: `verify(payload, headers)`, the same call in both packages\n');
console.log('| body | ours | standardwebhooks | standardwebhooks / ours | ours, new Webhook per call | standardwebhooks, new Webhook per call | ratio |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${label(r.size)} | ${us(r.oursJson)} | ${us(r.peerJson)} | ${(r.peerJson / r.oursJson).toFixed(2)}× | ${us(r.oursFresh)} | ${us(r.peerFresh)} | ${(r.peerFresh / r.oursFresh).toFixed(2)}× |`);
}
console.log('\nNot parsing: the check alone, keyed once\n');
console.log('| body | ours `verify({ headers, body, now })` | WebCrypto subtle.verify | node:crypto (native) | WebCrypto / ours | node:crypto / ours |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${label(r.size)} | ${us(r.ours)} | ${us(r.webcrypto)} | ${us(r['node:crypto'])} | ${(r.webcrypto / r.ours).toFixed(2)}× | ${(r['node:crypto'] / r.ours).toFixed(2)}× |`);
}
