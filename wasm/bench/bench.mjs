// Per-call verify time in one Node.js process, for 64 B, 512 B and 64 KiB
// bodies: the packaged module's keyed, synchronous `Webhook#verify` against
// the npm `standardwebhooks` package, WebCrypto `subtle.verify`, and native
// `node:crypto` HMAC (the ceiling). Every contender is keyed once, outside
// the timed loop. Prints the median of 25 timed batches per contender.
//
// Run by `bash scripts/wasm-package.sh --bench` (in the folder where the
// package is installed from its tarball).
import { createHmac, randomBytes, timingSafeEqual, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Webhook as Peer } from 'standardwebhooks';
import { initSync, Webhook } from 'webhook-signature-wasm';

initSync(readFileSync(createRequire(import.meta.url).resolve('webhook-signature-wasm/webhook_signature_wasm.wasm')));
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
    ours: await median(() => ours.verify({ headers, body: bytes, now: timestamp }), rounds),
    standardwebhooks: await median(() => peer.verify(body, headers), rounds),
    webcrypto: await median(() => webcrypto.subtle.verify('HMAC', subtleKey, expected, utf8.encode(`${id}.${timestamp}.${body}`)), rounds),
    'node:crypto': await median(() => {
      const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(bytes).digest();
      if (!timingSafeEqual(mac, expected)) throw new Error('mismatch');
    }, rounds),
  };
  if (pass === 2) rows.push({ size, ...times });
}

const us = (ns) => `${(ns / 1000).toFixed(2)} µs`;
console.log(`Node.js ${process.version}, one process, median of 25 batches (keyed once)\n`);
console.log('| body | ours (keyed, sync) | standardwebhooks | WebCrypto subtle.verify | node:crypto (native) | standardwebhooks / ours | WebCrypto / ours |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const label = r.size >= 1024 ? `${r.size / 1024} KiB` : `${r.size} B`;
  console.log(`| ${label} | ${us(r.ours)} | ${us(r.standardwebhooks)} | ${us(r.webcrypto)} | ${us(r['node:crypto'])} | ${(r.standardwebhooks / r.ours).toFixed(2)}× | ${(r.webcrypto / r.ours).toFixed(2)}× |`);
}
