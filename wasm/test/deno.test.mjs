// Deno's test runner over the packaged module, installed from its tarball
// (see scripts/wasm-package.sh). Deno fetches the module beside the wrapper.
import * as m from './node_modules/webhook-signature-wasm/webhook-signature.mjs';
import { checks } from './checks.mjs';

await m.init();
const vectors = JSON.parse(await Deno.readTextFile(new URL('./vectors.json', import.meta.url)));
const bytes = await Deno.readFile(new URL('./node_modules/webhook-signature-wasm/webhook_signature_wasm.wasm', import.meta.url));
let copies = 0;
const fresh = () => import(`./node_modules/webhook-signature-wasm/webhook-signature.mjs?fresh=${copies++}`);
for (const [name, check] of Object.entries(checks(m, vectors, bytes, fresh))) Deno.test(name, check);
