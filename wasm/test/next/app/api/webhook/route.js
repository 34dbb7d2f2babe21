// A Next.js route handler on the edge runtime, as a Vercel user writes one:
// 204 for an authentic delivery, 401 otherwise. `x-edge-runtime` tells the
// test which runtime answered (`EdgeRuntime` exists only in the edge one).
import { Webhook, WebhookVerificationError } from 'webhook-signature-wasm';

export const runtime = 'edge';

// The Standard Webhooks spec's example secret, as in the other package tests.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const RUNTIME = { 'x-edge-runtime': typeof EdgeRuntime === 'string' ? EdgeRuntime : 'none' };

export async function POST(request) {
  const body = await request.text();
  try {
    new Webhook(SECRET).verify(body, request.headers);
  } catch (error) {
    if (error instanceof WebhookVerificationError) return new Response(null, { status: 401, headers: RUNTIME });
    throw error;
  }
  return new Response(null, { status: 204, headers: RUNTIME });
}
