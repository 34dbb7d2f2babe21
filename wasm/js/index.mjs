// The package for Node.js, Deno, Bun, browsers and bundlers: the module's
// bytes are inlined (inline.mjs, made by build.mjs), so no loader, file
// access or fetch is needed, and it is compiled on first use.
import { provideModule } from './core.mjs';
import { compileInlined } from './inline.mjs';

provideModule(compileInlined);

export {
  BodyTooLargeError, init, initSync, MAX_BODY, MAX_SECRETS, readBody, verify, Webhook, WebhookVerificationError,
} from './core.mjs';
export { BODY_DIGEST_CLAIMS, EMBEDDED_EVENT_CLAIMS } from './binding.mjs';
export { CapabilityError, JobCapabilities } from './capability.mjs';
export { GeminiReceiver } from './gemini.mjs';
export { GOOGLE_JWKS_URL, Jwks, JwksCache } from './jwks.mjs';
export { expressWebhook, honoWebhook, withWebhook } from './middleware.mjs';
