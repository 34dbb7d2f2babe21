// Checks a `next build` of this app (run from the app's folder), then posts
// deliveries to its `next start` on 127.0.0.1. The build must have taken the
// package's `edge-light` entry: the edge function's manifest lists the
// package's .wasm file (only dist/edge-light.mjs imports it, with `?module`),
// and no server chunk holds the inlined module of dist/inline.mjs. The other
// entries compile that one from bytes, which Vercel Edge refuses ("you cannot
// use a buffer or byte array to dynamically compile the module") but
// `next start` allows, so the answers alone cannot tell the entries apart.
// Usage: node drive.mjs BUNDLER PORT
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

const [bundler, port] = process.argv.slice(2);
let failed = 0;
function check(name, actual, expected) {
  const ok = JSON.stringify(actual) === JSON.stringify(expected);
  failed += ok ? 0 : 1;
  console.log(`next (${bundler}) ${name}: ${JSON.stringify(actual)} ${ok ? 'ok' : `EXPECTED ${JSON.stringify(expected)}`}`);
}

const module = readFileSync('node_modules/webhook-signature-wasm/dist/webhook_signature_wasm.wasm');
const { functions } = JSON.parse(readFileSync('.next/server/middleware-manifest.json', 'utf8'));
const route = functions['/api/webhook/route'];
check('the route is an edge function', Boolean(route), true);
const wasm = route?.wasm ?? [];
check('its wasm assets are the package module', wasm.map(({ filePath }) => readFileSync(`.next/${filePath}`).equals(module)), [true]);
const inlined = module.toString('base64').slice(1000, 1064);
const holders = readdirSync('.next/server', { recursive: true })
  .filter((file) => /\.m?js$/.test(file) && readFileSync(`.next/server/${file}`, 'latin1').includes(inlined));
check('server chunks holding the inlined module', holders, []);

// Deliveries signed now, as the sender signs them (the route's secret, A, and another, B).
const A = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const B = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const body = '{"type":"batch.succeeded","data":{"id":"b1"}}';
const now = Math.floor(Date.now() / 1000);
function headers(secret, id, timestamp = now) {
  const mac = createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${mac}` };
}
const cases = [
  ['valid', headers(A, 'msg_next'), body, 204],
  ['forged (another secret)', headers(B, 'msg_next'), body, 401],
  ['tampered body', headers(A, 'msg_next'), `${body} `, 401],
  ['stale', headers(A, 'msg_old', now - 600), body, 401],
  ['no headers', {}, body, 401],
];
for (const [name, sent, payload, status] of cases) {
  const response = await fetch(`http://127.0.0.1:${port}/api/webhook`, {
    method: 'POST', headers: sent, body: payload, signal: AbortSignal.timeout(10_000),
  });
  check(name, [response.status, response.headers.get('x-edge-runtime'), await response.text()], [status, 'edge-runtime', '']);
}
process.exit(failed ? 1 : 0);
