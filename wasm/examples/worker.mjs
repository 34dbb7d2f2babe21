// A Cloudflare Worker receiving Standard Webhooks deliveries.
import module from 'webhook-signature-wasm/webhook_signature_wasm.wasm'; // a WebAssembly.Module in Workers
import { initSync, Webhook } from 'webhook-signature-wasm';

let webhook; // made on the first request: a Worker has no `env` at module scope

export default {
  async fetch(request, env) {
    if (!webhook) {
      initSync(module); // idempotent
      webhook = new Webhook(env.WEBHOOK_SECRET); // keyed once, inside the module
    }
    const body = await request.arrayBuffer(); // the raw bytes, never re-serialised JSON
    try {
      webhook.verify({ headers: request.headers, body }); // synchronous; throws on any failure
    } catch (error) {
      console.warn(`webhook rejected: ${error.code}`); // for your logs, never for the sender
      return new Response(null, { status: 401 });
    }
    // … store the delivery (deduplicate on webhook-id), then acknowledge:
    return new Response(null, { status: 204 });
  },
};
