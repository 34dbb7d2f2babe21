// Deno's test runner over the packaged module, installed from its tarball
// (see scripts/wasm-package.sh), imported by name: the exports map's `deno` entry.
import * as m from 'webhook-signature-wasm';
import { checks } from './checks.mjs';

await m.init();
const vectors = JSON.parse(await Deno.readTextFile(new URL('./vectors.json', import.meta.url)));
const bytes = await Deno.readFile(new URL('./node_modules/webhook-signature-wasm/dist/webhook_signature_wasm.wasm', import.meta.url));
let copies = 0;
const fresh = async () => {
  const copy = await import(`./node_modules/webhook-signature-wasm/dist/core.mjs?fresh=${copies++}`);
  copy.provideModule(() => new WebAssembly.Module(bytes));
  return copy;
};
for (const [name, check] of Object.entries(checks(m, vectors, bytes, fresh))) Deno.test(name, check);
