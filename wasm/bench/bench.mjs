// See bench.sh. Prints the median per-call time of many timed batches.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Webhook as Peer } from 'standardwebhooks';
import { init, verify } from '../webhook-signature.mjs';

await init(readFileSync(process.argv[2]));
const key = randomBytes(24).toString('base64');
const body = JSON.stringify({ type: 'video.generated', data: 'x'.repeat(470) }).padEnd(512, ' '); // the peer parses JSON
const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
const timestamp = Math.floor(Date.now() / 1000);
const peer = new Peer(key);
const signature = peer.sign(id, new Date(timestamp * 1000), body);
const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
const secret = `whsec_${key}`;
const bytes = new TextEncoder().encode(body);

async function median(name, call) {
  const BATCH = 2000;
  const times = [];
  for (let round = 0; round < 40; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) await call();
    times.push(Number(process.hrtime.bigint() - start) / BATCH);
  }
  times.sort((a, b) => a - b);
  const ns = times[times.length >> 1];
  console.log(`${name.padEnd(36)} ${(ns / 1000).toFixed(2)} µs per verify`);
  return ns;
}

const ours = await median('webhook-signature (wasm)', () => verify({ secret, headers, body: bytes, now: timestamp }));
const theirs = await median('standardwebhooks (npm)', () => peer.verify(body, headers));
console.log(`standardwebhooks / ours: ${(theirs / ours).toFixed(2)}×  (512-byte body, node ${process.version})`);
