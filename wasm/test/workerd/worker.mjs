// The test Worker: the README's Worker (examples/worker.mjs) on every path
// but the checks, which run inside workerd and answer what they saw. Bundled
// as Wrangler bundles a Worker: esbuild with the `workerd` condition, the
// `.wasm` files left as modules (see scripts/wasm-package.sh).
import readme from './readme-worker.mjs';
import * as m from 'webhook-signature-wasm';
import module from 'webhook-signature-wasm/webhook_signature_wasm.wasm';

const outcome = (promise) => promise.then(() => 'ok', (error) => error.code ?? String(error));

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === '/checks/cold') {
      // Sent first: three one-call verifies before anything initialised the module.
      const { a, b } = await request.json();
      const results = await Promise.all([
        outcome(m.verify({ secret: a.secret, headers: a.headers, body: a.body, now: a.now })),
        outcome(m.verify({ secret: b.secret, headers: b.headers, body: b.body, now: b.now })),
        outcome(m.verify({ secret: a.secret, headers: b.headers, body: b.body, now: b.now })),
      ]);
      return Response.json(results);
    }
    if (path === '/checks/reinit') {
      const { a, b } = await request.json();
      m.initSync(module);
      const first = new m.Webhook(a.secret);
      m.initSync(module);
      const second = new m.Webhook(b.secret);
      const results = [
        first.verify({ headers: a.headers, body: a.body, now: a.now }),
        second.verify({ headers: b.headers, body: b.body, now: b.now }),
        await outcome((async () => first.verify({ headers: b.headers, body: b.body, now: b.now }))()),
        await outcome((async () => second.verify({ headers: a.headers, body: a.body, now: a.now }))()),
      ];
      first.free();
      second.free();
      return Response.json(results);
    }
    if (path === '/checks/svix') {
      const { a } = await request.json();
      const svix = new Headers({ 'svix-id': a.headers['webhook-id'], 'svix-timestamp': a.headers['webhook-timestamp'], 'svix-signature': a.headers['webhook-signature'] });
      return Response.json([await outcome(m.verify({ secret: a.secret, headers: svix, body: a.body, now: a.now }))]);
    }
    if (path === '/checks/gemini') {
      const { audience, jwks, now, body, headers } = await request.json();
      const receiver = new m.GeminiReceiver({ audience, jwks });
      const verified = await receiver.verify(body, headers, { now });
      const forged = await outcome(receiver.verify(body, { ...headers, 'webhook-signature': `${headers['webhook-signature'].slice(0, -4)}AAAA` }, { now }));
      return Response.json([verified.mode, verified.authenticated, verified.kid, verified.event.type, forged, verified.replayKey]);
    }
    return readme.fetch(request, env);
  },
};
