// Compiled with `tsc --noEmit --strict` against dist/index.d.ts (see
// scripts/wasm-package.sh): the documented uses must type-check, so the
// hand-written declarations cannot drift from the README.
import {
  init,
  initSync,
  verify,
  Webhook,
  WebhookVerificationError,
  MAX_SECRETS,
  MAX_BODY,
  readBody,
  BodyTooLargeError,
  type ErrorCode,
  type HeadersLike,
  type WebhookOptions,
  type WebhookUnbrandedRequiredHeaders,
  type VerifyOptions,
  type SecretError,
  GeminiReceiver,
  GOOGLE_JWKS_URL,
  type GeminiDelivery,
  JobCapabilities,
  CapabilityError,
  JwksCache,
  expressWebhook,
  honoWebhook,
  withWebhook,
  type WebhookDelivery,
} from 'webhook-signature-wasm';
import { Hono } from 'hono';

await init();
await init(new Uint8Array(0).buffer);
initSync(new Uint8Array(0));

const webhook = new Webhook(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], { tolerance: 300 });
const headers: HeadersLike = new Headers({ 'webhook-id': 'msg_1' });
const plain: HeadersLike = { 'svix-id': 'msg_1', 'x-many': ['a', 'b'], absent: undefined };
const index: number = webhook.verify({ headers, body: new Uint8Array(0), now: 1700000000 });
webhook.verify({ headers: plain, body: 'text' });
const header: string = webhook.sign('msg_1', 1700000000, new ArrayBuffer(0));
webhook.free();

// npm standardwebhooks' API, as its users write it.
const options: WebhookOptions = { format: 'raw' };
const raw = new Webhook(new Uint8Array([1, 2, 3]), options);
const unbranded: WebhookUnbrandedRequiredHeaders = { 'webhook-id': 'msg_1', 'webhook-timestamp': '1', 'webhook-signature': 'v1,' };
const payload: unknown = raw.verify('{}', unbranded);
raw.verify(new Uint8Array(0), { 'webhook-id': 'msg_1' });
const signed: string = raw.sign('msg_1', new Date(), '{}');
const own = new WebhookVerificationError('custom message');
const verifyOptions: VerifyOptions = { jsonParse: false };
const unparsed: unknown = raw.verify('event=ping', unbranded, verifyOptions);
raw.verify('{}', unbranded, {});
// @ts-expect-error: jsonParse is a boolean
raw.verify('{}', unbranded, { jsonParse: 'no' });
const faulty: 'webhook-id' | 'webhook-timestamp' | 'webhook-signature' | undefined = own.header;
try {
  new Webhook('');
} catch (error) {
  if (!(error instanceof WebhookVerificationError)) console.log((error as SecretError).code);
}
console.log(payload, signed, own.code, unparsed, faulty);
{
  using scoped = new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  scoped.verify({ headers, body: new DataView(new ArrayBuffer(0)) });
}

try {
  await verify({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', headers, body: '', tolerance: 60 });
} catch (error) {
  if (error instanceof WebhookVerificationError) {
    const code: ErrorCode = error.code;
    const status: number | undefined = error.status;
    console.log(code, status);
  }
}
try {
  const fromFetch: Uint8Array = await readBody(new Request('http://127.0.0.1/', { method: 'POST', body: 'x' }));
  const fromNode: Uint8Array = await readBody(
    { headers: { 'content-length': '1' }, async *[Symbol.asyncIterator]() { yield new Uint8Array(1); } },
    { maxBytes: 1024 },
  );
  webhook.verify({ headers, body: fromFetch.length ? fromFetch : fromNode });
} catch (error) {
  if (error instanceof BodyTooLargeError) {
    const code: 'BodyTooLarge' = error.code;
    console.log(code, error.maxBytes);
  }
}
const limits: number = MAX_SECRETS + MAX_BODY;
console.log(index, header, limits);

// @ts-expect-error: a body is bytes or a string, not a number
webhook.verify({ headers, body: 42 });
// @ts-expect-error: secrets are strings
new Webhook(42);

// GeminiReceiver, offline JWKS, and the event union.
const gemini = new GeminiReceiver({ secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], audience: 'https://receiver.example/hook', jwks: { keys: [] } });
const delivery: GeminiDelivery = await gemini.verify(new Uint8Array(0), headers, { now: 1700000000 });
if (delivery.mode === 'dynamic') console.log(delivery.kid, delivery.authenticated, delivery.claims, delivery.replayKey, delivery.replaySource);
else console.log(delivery.key);
if (delivery.event?.type === 'video.generated') console.log(delivery.event.data?.output_file_uri);
console.log(GOOGLE_JWKS_URL);
// Authorization beyond aud, token age, named binding claims, a shared cache on its own clock; per-job capabilities.
new GeminiReceiver({
  audiencePrefix: 'https://receiver.example/hook', maxAge: null, requireClaims: { email: 'x@y', tier: 2, nested: { a: [1, null] } },
  claimsCheck: (claims) => claims.email_verified === true, requireBodyBoundBy: ['x-body-sha256'],
  jwksCache: new JwksCache(GOOGLE_JWKS_URL, { clock: () => performance.now() / 1000, fetchTimeout: 2000 }),
});
const capabilities = new JobCapabilities(new Uint8Array(32));
const nonce: string = await capabilities.check(await capabilities.issueFor('job-42')).catch((error: CapabilityError) => error.code);

// The middleware, in Hono (its own types) and as a Next.js route handler.
const app = new Hono<{ Variables: { webhook: WebhookDelivery } }>();
app.post('/hook', honoWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', { maxBytes: 1024 }), (c) => c.json({ id: c.get('webhook').id }));
export const POST = withWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', async (request, delivery) => {
  const again: string = await request.text();
  return Response.json({ id: delivery.id, again, payload: delivery.payload });
});
// A NextRequest-like subclass reaches the handler as itself.
class TenantRequest extends Request {
  get tenant(): string | null {
    return new URL(this.url).searchParams.get('tenant');
  }
}
export const PUT = withWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', async (request: TenantRequest) => Response.json({ tenant: request.tenant }));
await PUT(new TenantRequest('http://127.0.0.1/hook?tenant=acme', { method: 'PUT' }));
const express_: ReturnType<typeof expressWebhook> = expressWebhook(new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), { onReject: console.warn });
console.log(express_);
