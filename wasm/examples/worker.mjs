// A Cloudflare Worker receiving Standard Webhooks deliveries.
import { BodyTooLargeError, readBody, Webhook } from 'webhook-signature-wasm';

export default {
  async fetch(request, env) {
    const webhook = new Webhook(env.WEBHOOK_SECRET); // cheap: build one per request if you like
    let body; // the raw bytes, never re-serialised JSON
    try {
      body = await readBody(request, { maxBytes: 1024 * 1024 }); // never more than 1 MiB held per request
    } catch (error) {
      // Over the limit: the rest is never read. Otherwise the client broke off mid-body.
      return new Response(null, { status: error instanceof BodyTooLargeError ? 413 : 400 });
    }
    let event;
    try {
      event = webhook.verify(body, request.headers); // synchronous; the parsed JSON, or a throw
    } catch (error) {
      console.warn(`webhook rejected: ${error.code}`); // for your logs, never for the sender
      return new Response(null, { status: 401 });
    }
    // … store the event (deduplicate on webhook-id), then acknowledge:
    return new Response(null, { status: 204 });
  },
};
