// Node's test runner over the packaged module, installed from its tarball
// (see scripts/wasm-package.sh).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import * as m from 'webhook-signature-wasm';
import { checks } from './checks.mjs';

const wasm = createRequire(import.meta.url).resolve('webhook-signature-wasm/webhook_signature_wasm.wasm');
m.initSync(readFileSync(wasm));
const vectors = JSON.parse(readFileSync(new URL('./vectors.json', import.meta.url)));

test('the module imports nothing and fits 32 KiB', () => {
  const bytes = readFileSync(wasm);
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
  if (imports.length !== 0 || bytes.length > 32 * 1024) throw new Error(`${imports.length} imports, ${bytes.length} bytes`);
});
for (const [name, check] of Object.entries(checks(m, vectors))) test(name, check);
