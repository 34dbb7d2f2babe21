// The package for Cloudflare Workers (workerd), which may not compile
// WebAssembly from bytes: the module is imported, as Wrangler and workerd
// import a `.wasm` file, as a compiled WebAssembly.Module.
import { provideModule } from './core.mjs';
import module from './webhook_signature_wasm.wasm';

provideModule(() => module);

export {
  BodyTooLargeError, init, initSync, MAX_BODY, MAX_SECRETS, readBody, verify, Webhook, WebhookVerificationError,
} from './core.mjs';
export { BODY_DIGEST_CLAIMS, EMBEDDED_EVENT_CLAIMS } from './binding.mjs';
export { CapabilityError, JobCapabilities } from './capability.mjs';
export { GeminiReceiver } from './gemini.mjs';
export { GOOGLE_JWKS_URL, Jwks, JwksCache } from './jwks.mjs';
export { expressWebhook, honoWebhook, withWebhook } from './middleware.mjs';
