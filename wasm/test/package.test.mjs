// Node's test runner over the packaged module, installed from its tarball
// (see scripts/wasm-package.sh).
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as m from 'webhook-signature-wasm';
import { checks } from './checks.mjs';

const require = createRequire(import.meta.url);
const wasm = require.resolve('webhook-signature-wasm/webhook_signature_wasm.wasm');
// A fresh copy of the package's code, as a cold start sees it.
const core = pathToFileURL(require.resolve('webhook-signature-wasm/package.json').replace(/package\.json$/, 'dist/core.mjs')).href;
let copies = 0;
const fresh = async () => {
  const copy = await import(`${core}?fresh=${copies++}`);
  copy.provideModule(() => new WebAssembly.Module(readFileSync(wasm)));
  return copy;
};
const vectors = JSON.parse(readFileSync(new URL('./vectors.json', import.meta.url)));

test('a Webhook is built synchronously at module scope, no init() needed', async () => {
  const v = vectors[0];
  const headers = { 'webhook-id': v.id, 'webhook-timestamp': v.timestamp, 'webhook-signature': v.signature };
  const cold = await fresh();
  if (new cold.Webhook(v.secret).verify({ headers, body: v.payload, now: Number(v.timestamp) }) !== 0) throw new Error('not verified');
  await Promise.all([cold.init(), cold.init()]);
});

test('require() gives the CommonJS entry, with the same API', () => {
  const cjs = require('webhook-signature-wasm');
  if (!require.resolve('webhook-signature-wasm').endsWith('.cjs')) throw new Error(require.resolve('webhook-signature-wasm'));
  const v = vectors[0];
  const headers = { 'webhook-id': v.id, 'webhook-timestamp': v.timestamp, 'webhook-signature': v.signature };
  if (new cjs.Webhook(v.secret).verify({ headers, body: v.payload, now: Number(v.timestamp) }) !== 0) throw new Error('not verified');
  if (Object.keys(cjs).sort().join() !== Object.keys(m).sort().join()) throw new Error(`${Object.keys(cjs)} != ${Object.keys(m)}`);
});

test('the module checks headers and timestamp before any of the body is copied, and never grows for a body', () => {
  // The instance the package makes, caught as it is made.
  const Original = WebAssembly.Instance;
  let instance;
  WebAssembly.Instance = function (...args) {
    instance = new Original(...args);
    return instance;
  };
  let copy;
  try {
    // A new instance for the Webhooks made next: initSync with a new Module.
    copy = require('webhook-signature-wasm');
    copy.initSync(new WebAssembly.Module(readFileSync(wasm)));
  } finally {
    WebAssembly.Instance = Original;
  }
  const v = vectors[0];
  const webhook = new copy.Webhook(v.secret);
  const memory = instance.exports.memory;
  const pages = memory.buffer.byteLength;
  const chunk = new Uint8Array(memory.buffer, instance.exports.wh_chunk(), 65536);
  if (chunk.some((byte) => byte !== 0)) throw new Error('the secret was left in the chunk buffer');
  const body = new Uint8Array(8 * 1024 * 1024).fill(0x5a);
  const genuine = { 'webhook-id': v.id, 'webhook-timestamp': v.timestamp, 'webhook-signature': v.signature };
  if (webhook.verify({ headers: genuine, body: v.payload, now: Number(v.timestamp) }) !== 0) throw new Error('not verified');
  chunk.fill(0);
  const stale = { 'webhook-id': v.id, 'webhook-timestamp': '1', 'webhook-signature': v.signature };
  let code;
  try { webhook.verify({ headers: stale, body, now: 1_000_000 }); } catch (error) { code = error.code; }
  if (code !== 'TimestampTooOld' || chunk.some((byte) => byte !== 0)) throw new Error(`${code}: body bytes reached the module`);
  const forged = { ...stale, 'webhook-timestamp': v.timestamp };
  try { webhook.verify({ headers: forged, body, now: Number(v.timestamp) }); } catch (error) { code = error.code; }
  if (code !== 'NoMatchingSignature' || memory.buffer.byteLength !== pages) throw new Error(`${code}, memory ${pages} -> ${memory.buffer.byteLength}`);
  try { webhook.verify({ headers: forged, body: 'x'.repeat(8 << 20), now: Number(v.timestamp) }); } catch (error) { code = error.code; }
  if (memory.buffer.byteLength !== pages) throw new Error(`memory ${pages} -> ${memory.buffer.byteLength}`);
});

test("the README's Node.js example serves 204 and a bare 401", async () => {
  const secret = vectors[0].secret;
  const child = spawn(process.execPath, ['node-example.mjs'], { env: { ...process.env, PORT: '0', WEBHOOK_SECRET: secret }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = await new Promise((resolve, reject) => {
      child.stdout.on('data', (data) => { const found = /listening on (\d+)/.exec(String(data)); if (found) resolve(found[1]); });
      child.on('exit', (code) => reject(new Error(`example exited with ${code}`)));
    });
    const { createHmac } = await import('node:crypto');
    const now = Math.floor(Date.now() / 1000);
    const body = '{"type":"batch.succeeded"}';
    const mac = createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`msg_node.${now}.${body}`).digest('base64');
    const headers = { 'webhook-id': 'msg_node', 'webhook-timestamp': String(now), 'webhook-signature': `v1,${mac}` };
    const ok = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers, body });
    const tampered = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers, body: `${body} ` });
    if (ok.status !== 204 || tampered.status !== 401 || (await tampered.text()) !== '') {
      throw new Error(`${ok.status} ${tampered.status}`);
    }
    // Over its 1 MiB: declared, or streamed without a length (chunked): 4 MiB
    // in 64 KiB chunks (bounded: undici keeps pulling a stream it cannot send).
    // Declared: answered from the headers alone, with no byte of the body sent.
    const declared = await new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${(1 << 20) + 1}\r\n\r\n`);
      });
      let answer = '';
      socket.on('data', (data) => { answer += data; });
      socket.on('end', () => resolve({ status: Number(answer.slice(9, 12)) }));
      socket.on('error', reject);
    });
    let chunks = 64;
    const unsized = new ReadableStream({
      pull(controller) {
        if (chunks-- > 0) controller.enqueue(new Uint8Array(65536));
        else controller.close();
      },
    });
    const streamed = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers, body: unsized, duplex: 'half' })
      .then((response) => response.status, (error) => `refused: ${error.cause?.code ?? error.message}`);
    // The example stops reading and closes: the sender sees the 413, or (when
    // still writing, as HTTP/1.1 without `Expect: 100-continue` is) a broken pipe.
    if (declared.status !== 413 || !(streamed === 413 || /EPIPE|ECONNRESET|UND_ERR_SOCKET/.test(streamed))) {
      throw new Error(`${declared.status} ${streamed}`);
    }
    const after = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers, body });
    if (after.status !== 204) throw new Error(`after the oversized bodies: ${after.status}`);
  } finally {
    child.kill();
  }
});

test("verify(payload, headers, { jsonParse: false }) skips the JSON parse, as npm standardwebhooks 1.1.1 does", () => {
  // standardwebhooks 1.1.1 (dist/index.d.ts): verify(payload, headers, options?: VerifyOptions { jsonParse?: boolean })
  // returns undefined without parsing when jsonParse is false, so an authentic non-JSON body is accepted.
  const v = vectors[0];
  const webhook = new m.Webhook(v.secret);
  const now = Math.floor(Date.now() / 1000);
  const body = 'event=ping&id=1';
  const headers = { 'webhook-id': v.id, 'webhook-timestamp': String(now), 'webhook-signature': webhook.sign(v.id, now, body) };
  const result = webhook.verify(body, headers, { jsonParse: false });
  if (result !== undefined) throw new Error(`expected undefined, got ${JSON.stringify(result)}`);
});

test('readBody refuses a Node request whose stream was already read, rather than return 0 bytes', async () => {
  // A framework or logger read the stream first (Next.js pages API routes do by default): an empty body
  // would only show up later as NoMatchingSignature on every delivery.
  const { Readable } = await import('node:stream');
  const request = Readable.from([Buffer.from('{"a":1}')]);
  request.headers = { 'content-length': '7' };
  for await (const _ of request); // eslint-disable-line no-unused-vars
  let outcome;
  try {
    outcome = `${(await m.readBody(request)).length} bytes`;
  } catch (error) {
    outcome = error instanceof TypeError ? 'TypeError' : String(error);
  }
  if (outcome !== 'TypeError') throw new Error(`readBody gave ${outcome}`);
});

test('readBody refuses a Fetch Request whose body was already read, with the TypeError expressWebhook gives', async () => {
  const request = new Request('http://127.0.0.1/', { method: 'POST', body: '{"a":1}' });
  await request.text();
  let outcome;
  try {
    outcome = `${(await m.readBody(request)).length} bytes`;
  } catch (error) {
    outcome = error instanceof TypeError && /already read/.test(error.message) ? 'TypeError' : String(error);
  }
  if (outcome !== 'TypeError') throw new Error(`readBody gave ${outcome}`);
  // A request with no body is not a used one: zero bytes.
  if ((await m.readBody(new Request('http://127.0.0.1/'))).length !== 0) throw new Error('a GET has no body');
});

test("verify(payload, headers, { jsonParse }) parses as upstream does by default, and checks before skipping the parse", () => {
  const v = vectors[0];
  const webhook = new m.Webhook(v.secret);
  const now = Math.floor(Date.now() / 1000);
  const headers = { 'webhook-id': v.id, 'webhook-timestamp': String(now), 'webhook-signature': webhook.sign(v.id, now, v.payload) };
  if (JSON.stringify(webhook.verify(v.payload, headers, { jsonParse: true })) !== JSON.stringify(JSON.parse(v.payload))) throw new Error('jsonParse: true');
  if (JSON.stringify(webhook.verify(v.payload, headers, {})) !== JSON.stringify(JSON.parse(v.payload))) throw new Error('{}');
  let code;
  try {
    webhook.verify(`${v.payload} `, headers, { jsonParse: false });
  } catch (error) {
    code = error.code;
  }
  if (code !== 'NoMatchingSignature') throw new Error(`a tampered body with jsonParse: false gave ${code}`);
});

test('the module imports nothing and fits 32 KiB', () => {
  const bytes = readFileSync(wasm);
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
  if (imports.length !== 0 || bytes.length > 32 * 1024) throw new Error(`${imports.length} imports, ${bytes.length} bytes`);
});
for (const [name, check] of Object.entries(checks(m, vectors, readFileSync(wasm), fresh))) test(name, check);
