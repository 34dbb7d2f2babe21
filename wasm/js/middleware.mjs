// Middleware where JavaScript receivers live: Express (and any Connect-style
// `(req, res, next)` stack on node:http), Hono, and Fetch-style handlers (Next.js route
// handlers, Workers, Deno, Bun). Each reads the raw body under a limit,
// verifies it, and answers a bare status on failure: 413 over the limit, 400
// for a body that broke off or headers that are missing or malformed, 401 for
// a delivery that does not verify (forged, tampered, stale). Which check
// failed goes to `onReject` (default: console.warn of the code), never to the
// sender. A verified delivery is passed on with `{ id, timestamp, body,
// payload }`, and its body stays readable.
import { alreadyRead, BodyTooLargeError, MAX_BODY, readBody, Webhook, WebhookVerificationError } from './core.mjs';

const text = new TextDecoder('utf-8', { ignoreBOM: true });
/** Failures of the request's form rather than of its authenticity. */
const MALFORMED = new Set(['MissingHeader', 'InvalidHeader', 'InvalidTimestamp']);

/** The HTTP status for a failure. */
function statusOf(error) {
  if (error instanceof BodyTooLargeError || error?.code === 'BodyTooLarge') return 413;
  if (!(error instanceof WebhookVerificationError)) return 400; // the body broke off mid-way
  return MALFORMED.has(error.code) ? 400 : 401;
}

function options(secret, { maxBytes = MAX_BODY, onReject = (error) => console.warn(`webhook rejected: ${error.code ?? error.message}`), ...webhookOptions } = {}) {
  const webhook = secret instanceof Webhook ? secret : new Webhook(secret, webhookOptions);
  return { webhook, maxBytes, onReject };
}

/** Verifies `body` (bytes) with `headers`; the delivery as passed on. */
function verified(webhook, headers, body) {
  webhook.verify({ headers, body });
  const get = (name) => (typeof headers.get === 'function' ? headers.get(name) : headers[name]) ?? undefined;
  const id = get('webhook-id') ?? get('svix-id');
  const timestamp = Number(get('webhook-timestamp') ?? get('svix-timestamp'));
  let payload;
  try {
    payload = body.length === 0 ? undefined : JSON.parse(text.decode(body));
  } catch {
    payload = undefined; // authentic but not JSON: `body` has it
  }
  return { id, timestamp, body, payload };
}

/**
 * Express middleware: `app.post('/webhooks', expressWebhook(secret), (req, res) => …)`. Uses the raw body a
 * framework already read (`req.rawBody`, or a Buffer `req.body` from `express.raw()`), else reads the request
 * stream itself (`maxBytes`, default 1 MiB). Sets `req.webhook` (`{ id, timestamp, body, payload }`) and
 * `req.rawBody`. A body already parsed by `express.json()` cannot be verified: that is an error passed to `next`.
 *
 * When it read the stream itself, it also sets `req.body` (unless something set it): the payload parsed as JSON,
 * or the raw bytes as a Buffer when the body is empty or not JSON; and `req._body = true`, the flag body parsers
 * check, so a parser mounted after it (Express 4 or 5) passes the request on instead of failing on a spent stream.
 */
export function expressWebhook(secret, opts) {
  const { webhook, maxBytes, onReject } = options(secret, opts);
  return async function webhookMiddleware(req, res, next) {
    let body;
    const preread = req.rawBody ?? req.body;
    if (typeof preread === 'string' || ArrayBuffer.isView(preread)) {
      body = typeof preread === 'string' ? new TextEncoder().encode(preread) : new Uint8Array(preread.buffer, preread.byteOffset, preread.byteLength);
    } else if (req.readableEnded) {
      // A body parser read the stream and kept only what it parsed: the signed bytes are gone.
      next(alreadyRead());
      return;
    } else {
      try {
        body = await readBody(req, { maxBytes });
      } catch (error) {
        onReject(error);
        res.statusCode = statusOf(error);
        res.setHeader('connection', 'close'); // the rest of the body is not read
        res.end();
        return;
      }
    }
    try {
      // A body read by another parser is held to the same limit.
      if (body.length > maxBytes) throw new BodyTooLargeError(maxBytes);
      req.webhook = verified(webhook, req.headers, body);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) return next(error);
      onReject(error);
      res.statusCode = statusOf(error);
      res.end();
      return;
    }
    req.rawBody = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (req.body === undefined) {
      // The stream is spent: body parsers after this one skip a request flagged `_body` (body-parser 1 and 2).
      req.body = req.webhook.payload === undefined ? req.rawBody : req.webhook.payload;
      req._body = true;
    }
    next();
  };
}

/**
 * Hono middleware: `app.post('/webhooks', honoWebhook(secret), (c) => …)`. Reads the body of a clone of the
 * request (`maxBytes`, default 1 MiB), verifies it, and sets `c.get('webhook')` (`{ id, timestamp, body, payload
 * }`); `c.req.json()`, `c.req.text()`, `c.req.arrayBuffer()` and `c.req.raw` still read the body afterwards.
 */
export function honoWebhook(secret, opts) {
  const { webhook, maxBytes, onReject } = options(secret, opts);
  return async function webhookMiddleware(c, next) {
    let delivery;
    try {
      const body = await readBody(cloneOf(c.req.raw), { maxBytes });
      delivery = verified(webhook, c.req.raw.headers, body);
      // Hono reads every body form from this cache once one is there.
      c.req.bodyCache.arrayBuffer = Promise.resolve(body.slice().buffer);
    } catch (error) {
      discard(c.req.raw);
      onReject(error);
      return c.body(null, statusOf(error));
    }
    c.set('webhook', delivery);
    await next();
  };
}

/**
 * A clone to read the body from, so the caller's request keeps its body (and its class, `signal`, `cf`, …); a
 * body already read is left to `readBody` to refuse, since a used Request cannot be cloned.
 */
function cloneOf(request) {
  return request?.bodyUsed || typeof request?.clone !== 'function' ? request : request.clone();
}

/** A rejected request's own copy of the body is not wanted: cancelling it frees what the clone's reads buffered. */
function discard(request) {
  if (request?.body && !request.bodyUsed && !request.body.locked) request.body.cancel().catch(() => {});
}

/**
 * Wraps a Fetch-style handler (`(request, ...rest) => Response`): Next.js route handlers, Workers, Deno.serve,
 * Bun.serve. The body is read from a clone, so the handler is called with the caller's own Request (a Next.js
 * `NextRequest`, its `signal`, a Worker's `request.cf`), its body still readable, and the delivery:
 * `handler(request, delivery, ...rest)`.
 */
export function withWebhook(secret, handler, opts) {
  const { webhook, maxBytes, onReject } = options(secret, opts);
  return async function webhookHandler(request, ...rest) {
    let delivery;
    try {
      delivery = verified(webhook, request.headers, await readBody(cloneOf(request), { maxBytes }));
    } catch (error) {
      discard(request);
      onReject(error);
      return new Response(null, { status: statusOf(error) });
    }
    return handler(request, delivery, ...rest);
  };
}
