// Posts deliveries to the Worker on 127.0.0.1 and checks the answers:
// valid 2xx; tampered, stale and header-less 401 with the code; through both APIs.
// Usage: node drive.mjs PORT
const port = process.argv[2];
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const timestamp = '1614265330';
const body = '{"test": 2432232314}';
const signed = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' };
const cases = [
  ['valid', { ...signed, 'x-test-now': timestamp }, body, 204, ''],
  ['tampered', { ...signed, 'x-test-now': timestamp }, `${body} `, 401, 'NoMatchingSignature'],
  ['stale', { ...signed, 'x-test-now': String(Number(timestamp) + 600) }, body, 401, 'TimestampTooOld'],
  ['no headers', { 'x-test-now': timestamp }, body, 401, 'MissingHeader'],
];
let failed = 0;
for (const path of ['/verify', '/class']) {
  for (const [name, headers, payload, status, code] of cases) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers, body: payload });
    const text = await response.text();
    const ok = response.status === status && text === code;
    failed += ok ? 0 : 1;
    console.log(`workerd ${path} ${name}: ${response.status} ${text} ${ok ? 'ok' : `EXPECTED ${status} ${code}`}`);
  }
}
process.exit(failed ? 1 : 0);
