// Posts to the test Worker on 127.0.0.1 and checks the answers: first the
// in-runtime checks (a concurrent cold start of the one-call verify,
// re-initialisation, svix-* headers), then deliveries through the README's
// Worker, which answers a bare 401 (the codes go to workerd's log, checked
// by scripts/wasm-package.sh). Usage: node drive.mjs PORT
import { createHmac, createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';

const port = process.argv[2];
const now = Math.floor(Date.now() / 1000);
// The Standard Webhooks spec's example secret (the Worker's WEBHOOK_SECRET), and a second one.
const A = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const B = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const body = '{"type":"batch.succeeded","data":{"id":"b1"}}';
function delivery(secret, id, timestamp = now) {
  const mac = createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { secret, body, now, headers: { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${mac}` } };
}
const pair = JSON.stringify({ a: delivery(A, 'msg_a'), b: delivery(B, 'msg_b') });
let failed = 0;
function check(name, actual, expected) {
  const ok = JSON.stringify(actual) === JSON.stringify(expected);
  failed += ok ? 0 : 1;
  console.log(`workerd ${name}: ${JSON.stringify(actual)} ${ok ? 'ok' : `EXPECTED ${JSON.stringify(expected)}`}`);
}
const post = (path, payload, headers = {}) =>
  fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers, body: payload });

check('cold start: three concurrent one-call verifies', await (await post('/checks/cold', pair)).json(), ['ok', 'ok', 'NoMatchingSignature']);
check('re-initialisation: each Webhook verifies its own only', await (await post('/checks/reinit', pair)).json(), [0, 0, 'NoMatchingSignature', 'NoMatchingSignature']);
check('svix-* headers', await (await post('/checks/svix', pair)).json(), ['ok']);

// Gemini's dynamic mode in workerd's WebCrypto: a token signed with the committed test key
// (gemini/tests/fixtures/jwt/demo-2048-a.pem), checked against its JWKS (jwks-a.json).
const fixture = (name) => readFileSync(new URL(`../jwt/${name}`, import.meta.url), 'utf8');
const audience = 'https://receiver.example/webhooks/gemini';
const input = [{ alg: 'RS256', kid: 'demo-a' }, { aud: audience, iat: now, exp: now + 300 }]
  .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.');
const jwt = `${input}.${createSign('RSA-SHA256').update(input).sign(fixture('demo-2048-a.pem')).toString('base64url')}`;
const gemini = { audience, jwks: JSON.parse(fixture('jwks-a.json')), now, body, headers: { 'webhook-id': 'msg_dyn', 'webhook-timestamp': String(now), 'webhook-signature': jwt } };
const answer = await (await post('/checks/gemini', JSON.stringify(gemini))).json();
check('GeminiReceiver, dynamic', answer.slice(0, 5), ['dynamic', 'bearer-token', 'demo-a', 'batch.succeeded', 'BadSignature']);
// The replay key of a token and body from the Rust crate (wasm/test/fixtures/replay-keys.json), as the crate gives it.
const [rust] = JSON.parse(readFileSync(new URL('../fixtures/replay-keys.json', import.meta.url), 'utf8')).cases;
const replay = { ...gemini, now: 1790000000, body: rust.body,
  headers: { 'webhook-id': 'msg_dyn', 'webhook-timestamp': '1790000000', 'webhook-signature': rust.token } };
check('GeminiReceiver, replay key', (await (await post('/checks/gemini', JSON.stringify(replay))).json())[5], rust.replayKey);

const valid = delivery(A, 'msg_readme');
const cases = [
  ['valid', valid.headers, body, 204],
  ['tampered', valid.headers, `${body} `, 401],
  ['stale', delivery(A, 'msg_old', now - 600).headers, body, 401],
  ['no headers', {}, body, 401],
  ['over its 1 MiB', valid.headers, new Uint8Array((1 << 20) + 1), 413],
];
for (const [name, headers, payload, status] of cases) {
  const response = await post('/webhooks', payload, headers);
  check(`README Worker, ${name}`, [response.status, await response.text()], [status, '']);
}
process.exit(failed ? 1 : 0);
