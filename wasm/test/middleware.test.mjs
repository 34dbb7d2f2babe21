// The Express, Hono and Fetch middleware, each with the same deliveries:
// valid (the handler sees the delivery and can read the body again),
// tampered and stale (401), headers missing or malformed (400), a body over
// the limit (413). Express runs on 127.0.0.1; Hono and the Fetch wrapper are
// called in-process with Requests.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import express from 'express';
import express4 from 'express4'; // express@4 under another name (scripts/wasm-package.sh): body-parser 1
import { Hono } from 'hono';
import { expressWebhook, honoWebhook, Webhook, withWebhook } from 'webhook-signature-wasm';

// The Standard Webhooks spec's example secret.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BODY = '{"type":"batch.succeeded","data":{"id":"b1"}}';
const quiet = { onReject: () => {}, maxBytes: 1024 };
function signed(body = BODY, timestamp = Math.floor(Date.now() / 1000)) {
  const mac = createHmac('sha256', Buffer.from(SECRET.slice(6), 'base64')).update(`msg_1.${timestamp}.${body}`).digest('base64');
  return { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${mac}` };
}
/** [name, headers, body, expected status] for every middleware. */
const CASES = [
  ['valid', () => signed(), BODY, 200],
  ['tampered', () => signed(), `${BODY} `, 401],
  ['stale', () => signed(BODY, Math.floor(Date.now() / 1000) - 3600), BODY, 401],
  ['no headers', () => ({ 'content-type': 'application/json' }), BODY, 400],
  ['bad timestamp', () => ({ ...signed(), 'webhook-timestamp': 'soon' }), BODY, 400],
  ['over the limit', () => signed('x'.repeat(2000)), 'x'.repeat(2000), 413],
];

test('Express: verifies the raw body, sets req.webhook, answers 401/400/413', async () => {
  const app = express();
  const answer = (req, res) => res.json({ id: req.webhook.id, type: req.webhook.payload.type, raw: req.rawBody.toString() });
  app.post('/hook', expressWebhook(SECRET, quiet), answer);
  // After express.raw(): the Buffer it read is used.
  app.post('/raw', express.raw({ type: '*/*' }), expressWebhook(new Webhook(SECRET), quiet), answer);
  // After express.json(): the signed bytes are gone; an error, not a pass.
  app.post('/parsed', express.json(), expressWebhook(SECRET, quiet), answer);
  app.use((error, req, res, next) => res.status(500).json({ error: error.message }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    for (const path of ['/hook', '/raw']) {
      for (const [name, headers, body, status] of CASES) {
        const response = await fetch(`${base}${path}`, { method: 'POST', headers: headers(), body });
        assert.equal(response.status, status, `${path} ${name}`);
        if (status === 200) assert.deepEqual(await response.json(), { id: 'msg_1', type: 'batch.succeeded', raw: BODY });
        else if (path === '/hook') assert.equal(await response.text(), '', 'a bare status');
      }
    }
    const parsed = await fetch(`${base}/parsed`, { method: 'POST', headers: signed(), body: BODY });
    assert.equal(parsed.status, 500);
    assert.match((await parsed.json()).error, /already read/);
  } finally {
    server.close();
  }
});

test('Hono: c.get("webhook"), and the body stays readable', async () => {
  const app = new Hono();
  app.post('/hook', honoWebhook(SECRET, quiet), async (c) => c.json({ id: c.get('webhook').id, again: await c.req.json(), text: await c.req.text() }));
  for (const [name, headers, body, status] of CASES) {
    const response = await app.request('/hook', { method: 'POST', headers: headers(), body });
    assert.equal(response.status, status, name);
    if (status === 200) assert.deepEqual(await response.json(), { id: 'msg_1', again: JSON.parse(BODY), text: BODY });
  }
});

test('Fetch wrapper (Next.js route handlers, Workers): the handler gets a readable Request and the delivery', async () => {
  const rejected = [];
  const POST = withWebhook(SECRET, async (request, delivery, context) => Response.json({
    id: delivery.id, type: delivery.payload.type, again: await request.text(), context,
  }), { ...quiet, onReject: (error) => rejected.push(error.code) });
  for (const [name, headers, body, status] of CASES) {
    const response = await POST(new Request('http://127.0.0.1/hook', { method: 'POST', headers: headers(), body }), 'ctx');
    assert.equal(response.status, status, name);
    if (status === 200) assert.deepEqual(await response.json(), { id: 'msg_1', type: 'batch.succeeded', again: BODY, context: 'ctx' });
  }
  assert.deepEqual(rejected, ['NoMatchingSignature', 'TimestampTooOld', 'MissingHeader', 'InvalidTimestamp', 'BodyTooLarge']);
  // A GET signed over its empty body reaches the handler too (a Request cannot carry a body for it).
  const echo = withWebhook(SECRET, async (request, delivery) => Response.json({ method: request.method, length: delivery.body.length }), quiet);
  const get = await echo(new Request('http://127.0.0.1/hook', { headers: signed('') }));
  assert.deepEqual(await get.json(), { method: 'GET', length: 0 });
});

test('Express: a body parser mounted after the middleware still gives the handler req.body', async () => {
  // body-parser skips a request whose stream has been read (Express 5: req.body stays undefined;
  // Express 4: a 500 "stream is not readable"); the middleware has the parsed payload to give.
  const app = express();
  app.post('/hook', expressWebhook(SECRET, quiet), express.json(), (req, res) => res.json({ body: req.body ?? null }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${server.address().port}/hook`, { method: 'POST', headers: signed(), body: BODY });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { body: JSON.parse(BODY) });
  } finally {
    server.close();
  }
});

test('Express 4 and 5: req.body after the middleware is the parsed JSON, else the raw bytes, whatever parser follows', async () => {
  for (const [name, framework] of [['express 5', express], ['express 4', express4]]) {
    const app = framework();
    const show = (req, res) => res.json({
      json: Buffer.isBuffer(req.body) ? null : req.body ?? null,
      bytes: Buffer.isBuffer(req.body) ? req.body.toString() : null,
      raw: req.rawBody.toString(),
    });
    app.post('/json', expressWebhook(SECRET, quiet), framework.json(), show);
    app.post('/text', expressWebhook(SECRET, quiet), framework.text({ type: '*/*' }), framework.urlencoded({ extended: false }), show);
    app.post('/none', expressWebhook(SECRET, quiet), show);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${server.address().port}`;
    const post = async (path, body, type) => {
      const response = await fetch(`${base}${path}`, { method: 'POST', headers: { ...signed(body), 'content-type': type }, body });
      assert.equal(response.status, 200, `${name} ${path}`);
      return response.json();
    };
    try {
      const form = 'event=ping&id=1';
      assert.deepEqual(await post('/json', BODY, 'application/json'), { json: JSON.parse(BODY), bytes: null, raw: BODY }, name);
      assert.deepEqual(await post('/text', BODY, 'text/plain'), { json: JSON.parse(BODY), bytes: null, raw: BODY }, name);
      assert.deepEqual(await post('/text', form, 'application/x-www-form-urlencoded'), { json: null, bytes: form, raw: form }, name);
      assert.deepEqual(await post('/none', form, 'text/plain'), { json: null, bytes: form, raw: form }, name);
      assert.deepEqual(await post('/none', '', 'text/plain'), { json: null, bytes: '', raw: '' }, name);
    } finally {
      server.close();
    }
  }
});

test('Hono: c.req.raw stays readable after the middleware', async () => {
  const app = new Hono();
  app.post('/hook', honoWebhook(SECRET, quiet), async (c) => c.text(await c.req.raw.text()));
  const response = await app.request('/hook', { method: 'POST', headers: signed(), body: BODY });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), BODY);
});

test("Fetch wrapper: the handler gets the caller's Request (Next.js NextRequest, its signal), not a bare copy", async () => {
  // A stand-in for next/server's NextRequest: route handlers read request.nextUrl, request.cookies, request.signal.
  class NextRequest extends Request {
    get nextUrl() {
      return new URL(this.url);
    }
  }
  const controller = new AbortController();
  const POST = withWebhook(SECRET, async (request) => {
    controller.abort();
    return Response.json({
      tenant: request.nextUrl?.searchParams.get('tenant') ?? null, aborted: request.signal.aborted, body: await request.text(),
    });
  }, quiet);
  const request = new NextRequest('http://127.0.0.1/hook?tenant=acme', { method: 'POST', headers: signed(), body: BODY, signal: controller.signal });
  assert.deepEqual(await (await POST(request)).json(), { tenant: 'acme', aborted: true, body: BODY });
});

test('Fetch wrapper and Hono: the very Request object reaches the handler, with members a runtime added (Workers: cf)', async () => {
  const seen = [];
  const POST = withWebhook(SECRET, async (request) => {
    seen.push(request);
    return new Response(await request.text());
  }, quiet);
  const request = new Request('http://127.0.0.1/hook', { method: 'POST', headers: signed(), body: BODY });
  Object.defineProperty(request, 'cf', { value: { colo: 'AMS' } });
  assert.equal(await (await POST(request)).text(), BODY);
  assert.equal(seen[0], request);
  assert.deepEqual(seen[0].cf, { colo: 'AMS' });
  // Too large: refused from the clone, before the handler; the caller's body is cancelled, not left buffered.
  const large = new Request('http://127.0.0.1/hook', { method: 'POST', headers: signed('x'.repeat(2000)), body: 'x'.repeat(2000) });
  assert.equal((await POST(large)).status, 413);
  assert.equal(seen.length, 1);
  // A body something read first is refused as a TypeError (400), not verified as empty.
  const used = new Request('http://127.0.0.1/hook', { method: 'POST', headers: signed(), body: BODY });
  await used.text();
  assert.equal((await POST(used)).status, 400);

  const app = new Hono();
  app.post('/hook', honoWebhook(SECRET, quiet), async (c) => c.json({ raw: await c.req.raw.text(), parsed: await c.req.json() }));
  const response = await app.request('/hook', { method: 'POST', headers: signed(), body: BODY });
  assert.deepEqual(await response.json(), { raw: BODY, parsed: JSON.parse(BODY) });
});
