// A Worker serving both APIs of the packaged module: the README's `verify`
// (POST /verify) and the `Webhook` class (POST /class).
import module from './webhook_signature_wasm.wasm';
import { init, initSync, verify, Webhook } from './webhook-signature.mjs';

const ready = init(module);
let webhook;

export default {
  async fetch(request, env) {
    const body = await request.arrayBuffer();
    const now = Number(request.headers.get('x-test-now')) || undefined;
    try {
      if (new URL(request.url).pathname === '/class') {
        if (!webhook) {
          initSync(module);
          webhook = new Webhook(env.SECRET);
        }
        webhook.verify({ headers: request.headers, body, now });
      } else {
        await ready;
        await verify({ secret: env.SECRET, headers: request.headers, body, now });
      }
    } catch (error) {
      return new Response(error.code ?? String(error), { status: 401 });
    }
    return new Response(null, { status: 204 });
  },
};
