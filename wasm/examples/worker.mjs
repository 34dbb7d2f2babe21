// A Cloudflare Worker receiving Standard Webhooks deliveries.
import module from 'webhook-signature-wasm/webhook_signature_wasm.wasm'; // a WebAssembly.Module in Workers
import { BodyTooLargeError, initSync, readBody, Webhook } from 'webhook-signature-wasm';

let webhook; // made on the first request: a Worker has no `env` at module scope

export default {
  async fetch(request, env) {
    if (!webhook) {
      initSync(module); // idempotent
      webhook = new Webhook(env.WEBHOOK_SECRET); // keyed once, inside the module
    }
    let body; // the raw bytes, never re-serialised JSON
    try {
      body = await readBody(request, { maxBytes: 1024 * 1024 }); // never more than 1 MiB held per request
    } catch (error) {
      // Over the limit: the rest is never read. Otherwise the client broke off mid-body.
      return new Response(null, { status: error instanceof BodyTooLargeError ? 413 : 400 });
    }
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
