// The package for Cloudflare Workers (workerd), which may not compile
// WebAssembly from bytes: the module is imported, as Wrangler and workerd
// import a `.wasm` file, as a compiled WebAssembly.Module.
import { provideModule } from './core.mjs';
import module from './webhook_signature_wasm.wasm';

provideModule(() => module);

export {
  BodyTooLargeError, init, initSync, MAX_BODY, MAX_SECRETS, readBody, verify, Webhook, WebhookVerificationError,
} from './core.mjs';
export { GeminiReceiver, GOOGLE_JWKS_URL, Jwks, JwksCache } from './gemini.mjs';
export { expressWebhook, honoWebhook, withWebhook } from './middleware.mjs';
