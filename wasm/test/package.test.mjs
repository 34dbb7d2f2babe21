// Node's test runner over the packaged module, installed from its tarball
// (see scripts/wasm-package.sh).
import { spawn } from 'node:child_process';
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
