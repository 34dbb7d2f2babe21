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
const wrapper = pathToFileURL(require.resolve('webhook-signature-wasm')).href;
let copies = 0;
const fresh = () => import(`${wrapper}?fresh=${copies++}`);
m.initSync(readFileSync(wasm));
const vectors = JSON.parse(readFileSync(new URL('./vectors.json', import.meta.url)));

test('await init() with no argument reads the module beside the wrapper', async () => {
  const cold = await fresh();
  await Promise.all([cold.init(), cold.init()]);
  const v = vectors[0];
  const headers = { 'webhook-id': v.id, 'webhook-timestamp': v.timestamp, 'webhook-signature': v.signature };
  if (new cold.Webhook(v.secret).verify({ headers, body: v.payload, now: Number(v.timestamp) }) !== 0) throw new Error('not verified');
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

test('the module imports nothing and fits 32 KiB', () => {
  const bytes = readFileSync(wasm);
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
  if (imports.length !== 0 || bytes.length > 32 * 1024) throw new Error(`${imports.length} imports, ${bytes.length} bytes`);
});
for (const [name, check] of Object.entries(checks(m, vectors, readFileSync(wasm), fresh))) test(name, check);
