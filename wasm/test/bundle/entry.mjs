// Bundled by esbuild (ESM and CommonJS output) and Vite, then run from
// another folder; run as it is by Bun. Verifies the peers' cross-library
// vector (tests/common/mod.rs) with the package's upstream-compatible API
// and prints what it saw.
import { Webhook, WebhookVerificationError } from 'webhook-signature-wasm';

const webhook = new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
const headers = {
  'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  'webhook-timestamp': '1614265330',
  'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const matched = webhook.verify({ headers, body: '{"test": 2432232314}', now: 1614265330 });
let rejected;
try {
  webhook.verify({ headers, body: '{"test": 2432232315}', now: 1614265330 });
} catch (error) {
  rejected = error instanceof WebhookVerificationError && error.code;
}
const signed = webhook.sign(headers['webhook-id'], new Date(1614265330 * 1000), '{"test": 2432232314}');
console.log(`bundle: matched ${matched}, tampered ${rejected}, signed ${signed === headers['webhook-signature']}`);
