// Loads the wasm module with plain WebAssembly.instantiate and checks it
// against the known-answer vectors, node:crypto HMAC on random inputs, and the
// rejections. Usage: node wasm/test/node-test.mjs path/to/module.wasm
import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { init, verify } from '../dist/index.mjs';

const wasmPath = process.argv[2];
const bytes = readFileSync(wasmPath);
const module = await WebAssembly.compile(bytes);
assert.deepEqual(WebAssembly.Module.imports(module), [], 'the module must not import anything');
await init(bytes);
console.log(`module: ${wasmPath}, ${bytes.length} bytes (${(bytes.length / 1024).toFixed(1)} KiB), no imports`);

const rejects = (delivery, code) =>
  assert.rejects(verify(delivery), (error) => error.code === code, `expected ${code}`);

// Known answers: generated from tests/common/mod.rs (see tests/vectors.rs).
const vectors = JSON.parse(readFileSync(new URL('../../tests/fixtures/vectors.json', import.meta.url)));
for (const v of vectors) {
  const headers = { 'Webhook-Id': v.id, 'webhook-timestamp': v.timestamp, 'WEBHOOK-SIGNATURE': v.signature };
  await verify({ secret: v.secret, headers, body: v.payload, now: Number(v.timestamp) });
  await verify({ secret: v.secret, headers: new Headers(headers), body: utf8(v.payload), now: Number(v.timestamp) });
}
console.log(`known-answer vectors: ${vectors.length} passed`);

function utf8(text) {
  return new TextEncoder().encode(text);
}

// Random deliveries against node:crypto's HMAC-SHA256.
const ROUNDS = 300;
for (let i = 0; i < ROUNDS; i++) {
  const key = randomBytes(randomInt(1, 65));
  const id = `msg_${randomBytes(randomInt(1, 20)).toString('hex')}`;
  const timestamp = String(randomInt(0, 2 ** 47));
  const body = randomBytes(randomInt(0, 3000));
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  const delivery = {
    secret: `whsec_${key.toString('base64')}`,
    headers: { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v2,x v1,${mac}` },
    body,
    now: Number(timestamp),
  };
  await verify(delivery);
  if (body.length > 0) {
    const tampered = Buffer.from(body);
    tampered[randomInt(0, body.length)] ^= 1 << randomInt(0, 8);
    await rejects({ ...delivery, body: tampered }, 'NoMatchingSignature');
  }
}
console.log(`node:crypto HMAC agreement: ${ROUNDS} random deliveries passed`);

// Rejections, with the clock passed in from JavaScript.
const a1 = vectors[0];
const headers = { 'webhook-id': a1.id, 'webhook-timestamp': a1.timestamp, 'webhook-signature': a1.signature };
const base = { secret: a1.secret, headers, body: a1.payload, now: Number(a1.timestamp) };
await rejects({ ...base, now: Number(a1.timestamp) + 301 }, 'TimestampTooOld');
await rejects({ ...base, now: Number(a1.timestamp) - 301 }, 'TimestampTooNew');
await verify({ ...base, now: Number(a1.timestamp) + 301, tolerance: 301 });
await rejects({ ...base, body: a1.payload + ' ' }, 'NoMatchingSignature');
await rejects({ ...base, headers: { ...headers, 'webhook-timestamp': '+1614265330' } }, 'InvalidTimestamp');
await rejects({ ...base, headers: { ...headers, 'webhook-signature': 'v2,abc v1,' } }, 'NoSupportedSignature');
await rejects({ ...base, headers: { 'webhook-id': a1.id, 'webhook-timestamp': a1.timestamp } }, 'MissingHeader');
await rejects({ ...base, secret: 'whsec_not base64!' }, 'InvalidSecret');
await assert.rejects(verify({ ...base, headers: {} }), { message: 'Missing required headers', code: 'MissingHeader', header: 'webhook-id' });
console.log('rejections: stale, future, tampered, malformed, unsupported, missing, bad secret: passed');

// v1a: B1 from Svix's server tests (tests/common/mod.rs), in the ed25519 build only.
const b1 = {
  secret: 'whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=',
  headers: { ...headers, 'webhook-signature': 'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==' },
  body: a1.payload,
  now: Number(a1.timestamp),
};
if (process.argv.includes('--ed25519')) {
  await verify(b1);
  await rejects({ ...b1, body: '{}' }, 'NoMatchingSignature');
  console.log('v1a (Ed25519): B1 verified, tampered body rejected');
} else {
  await rejects(b1, 'InvalidSecret');
}
