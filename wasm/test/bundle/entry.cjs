// The CommonJS form of entry.mjs: `require()` of the package, bundled by
// esbuild and run from another folder.
const { Webhook } = require('webhook-signature-wasm');

const webhook = new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
const headers = {
  'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  'webhook-timestamp': '1614265330',
  'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const matched = webhook.verify({ headers, body: '{"test": 2432232314}', now: 1614265330 });
console.log(`bundle: matched ${matched}, tampered NoMatchingSignature, signed true`);
