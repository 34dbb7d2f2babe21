// Checks of the packaged module shared by Node's and Deno's test runners:
// known answers, random deliveries against node:crypto, every rejection, and
// bad input. `m` is the package's namespace, already initialized.
import { createHmac, randomBytes, randomInt } from 'node:crypto';

function assert(condition, message) {
  if (!condition) throw new Error(message);
}
function equal(actual, expected, message = '') {
  assert(Object.is(actual, expected), `${message} expected ${expected}, got ${actual}`);
}
function throwsCode(m, fn, code) {
  try {
    fn();
  } catch (error) {
    assert(error instanceof m.WebhookVerificationError, `not a WebhookVerificationError: ${error}`);
    equal(error.code, code, 'code');
    return;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}
/** A configuration error (a bad secret): a plain Error as npm `standardwebhooks` throws, never a WebhookVerificationError. */
function throwsConfig(m, fn, code, pattern = /./) {
  try {
    fn();
  } catch (error) {
    assert(error instanceof Error && !(error instanceof m.WebhookVerificationError), `not a plain Error: ${error}`);
    equal(error.code, code, 'code');
    assert(pattern.test(error.message), `message ${error.message} does not match ${pattern}`);
    return;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}
function throwsType(fn, pattern) {
  try {
    fn();
  } catch (error) {
    assert(error instanceof TypeError, `expected TypeError, got ${error}`);
    assert(pattern.test(error.message), `message ${error.message} does not match ${pattern}`);
    return;
  }
  throw new Error('expected a TypeError');
}

/** A delivery signed with `secret` by node:crypto, for the one-call and re-initialisation checks. */
function signedBy(secret, id, now) {
  const body = '{"type":"batch.succeeded"}';
  const mac = createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`${id}.${now}.${body}`).digest('base64');
  return { headers: { 'webhook-id': id, 'webhook-timestamp': String(now), 'webhook-signature': `v1,${mac}` }, body, now };
}

/** An async iterable of `chunks`, as a Node IncomingMessage yields its body. */
async function* chunked(chunks) {
  for (const chunk of chunks) yield typeof chunk === 'string' ? chunk : Buffer.from(chunk);
}

async function rejectsTooLarge(m, promise, maxBytes) {
  try {
    await promise;
  } catch (error) {
    assert(error instanceof m.BodyTooLargeError && error instanceof m.WebhookVerificationError, `not a BodyTooLargeError: ${error}`);
    equal(error.code, 'BodyTooLarge', 'code');
    equal(error.maxBytes, maxBytes, 'maxBytes');
    return;
  }
  throw new Error('expected BodyTooLargeError, nothing was thrown');
}

async function rejectsType(promise, pattern) {
  try {
    await promise;
  } catch (error) {
    assert(error instanceof TypeError && pattern.test(error.message), `expected a TypeError matching ${pattern}, got ${error}`);
    return;
  }
  throw new Error('expected a TypeError');
}

const A = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const B = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';

/**
 * `m`: the package, initialised; `bytes`: its module's bytes; `fresh()`: a
 * new, uninitialised copy of the package (a fresh import), for cold starts.
 */
export function checks(m, vectors, bytes, fresh) {
  const a1 = vectors[0];
  const headers = { 'webhook-id': a1.id, 'webhook-timestamp': a1.timestamp, 'webhook-signature': a1.signature };
  const now = Number(a1.timestamp);
  return {
    'known-answer vectors, both APIs, plain objects and Headers': async () => {
      for (const v of vectors) {
        const h = { 'Webhook-Id': v.id, 'webhook-timestamp': v.timestamp, 'WEBHOOK-SIGNATURE': v.signature };
        const webhook = new m.Webhook(v.secret);
        equal(webhook.verify({ headers: h, body: v.payload, now: Number(v.timestamp) }), 0, v.source);
        equal(webhook.verify({ headers: new Headers(h), body: new TextEncoder().encode(v.payload), now: Number(v.timestamp) }), 0);
        webhook.free();
        await m.verify({ secret: v.secret, headers: h, body: v.payload, now: Number(v.timestamp) });
      }
    },
    'random deliveries agree with node:crypto, and sign agrees too': () => {
      for (let i = 0; i < 200; i++) {
        const key = randomBytes(randomInt(1, 80));
        const id = `msg_${randomBytes(randomInt(1, 20)).toString('hex')}`;
        const timestamp = randomInt(0, 2 ** 40);
        const body = randomBytes(randomInt(0, 3000));
        const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
        const webhook = new m.Webhook(`whsec_${key.toString('base64')}`);
        const h = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v2,x v1,${mac}` };
        equal(webhook.verify({ headers: h, body, now: timestamp }), 0);
        equal(webhook.sign(id, timestamp, body), `v1,${mac}`);
        if (body.length > 0) {
          const tampered = Uint8Array.from(body);
          tampered[randomInt(0, body.length)] ^= 1 << randomInt(0, 8);
          throwsCode(m, () => webhook.verify({ headers: h, body: tampered, now: timestamp }), 'NoMatchingSignature');
        }
        webhook.free();
      }
    },
    'rotation: the index of the matching secret, and one entry per secret': () => {
      const webhook = new m.Webhook(['whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD', a1.secret]);
      equal(webhook.verify({ headers, body: a1.payload, now }), 1);
      const header = webhook.sign(a1.id, now, a1.payload);
      equal(header.split(' ').length, 2);
      equal(header.split(' ')[1], a1.signature);
      webhook.free();
    },
    'every rejection names its variant': () => {
      const webhook = new m.Webhook(a1.secret, { tolerance: 300 });
      const base = { headers, body: a1.payload, now };
      throwsCode(m, () => webhook.verify({ ...base, now: now + 301 }), 'TimestampTooOld');
      throwsCode(m, () => webhook.verify({ ...base, now: now - 301 }), 'TimestampTooNew');
      throwsCode(m, () => webhook.verify({ ...base, body: a1.payload + ' ' }), 'NoMatchingSignature');
      throwsCode(m, () => webhook.verify({ ...base, headers: { ...headers, 'webhook-timestamp': '+1' } }), 'InvalidTimestamp');
      throwsCode(m, () => webhook.verify({ ...base, headers: { ...headers, 'webhook-signature': 'v2,abc' } }), 'NoSupportedSignature');
      throwsCode(m, () => webhook.verify({ ...base, headers: {} }), 'MissingHeader');
      throwsConfig(m, () => new m.Webhook('whsec_not base64!'), 'InvalidSecret');
      webhook.free();
      assert(/freed/.test((() => { try { webhook.verify(base); } catch (e) { return e.message; } })()), 'freed');
    },
    "messages are npm standardwebhooks' own; the header at fault is beside the code": () => {
      const webhook = new m.Webhook(a1.secret);
      const base = { headers, body: a1.payload, now };
      const caught = (fn) => {
        try {
          fn();
        } catch (error) {
          assert(error instanceof m.WebhookVerificationError, `not a WebhookVerificationError: ${error}`);
          return [error.message, error.code, error.header];
        }
        throw new Error('nothing was thrown');
      };
      const same = (actual, expected) => equal(JSON.stringify(actual), JSON.stringify(expected));
      const without = (name) => Object.fromEntries(Object.entries(headers).filter(([key]) => key !== name));
      same(caught(() => webhook.verify({ ...base, headers: without('webhook-id') })), ['Missing required headers', 'MissingHeader', 'webhook-id']);
      same(caught(() => webhook.verify({ ...base, headers: without('webhook-timestamp') })), ['Missing required headers', 'MissingHeader', 'webhook-timestamp']);
      same(caught(() => webhook.verify({ ...base, headers: without('webhook-signature') })), ['Missing required headers', 'MissingHeader', 'webhook-signature']);
      same(caught(() => webhook.verify({ ...base, headers: { ...headers, 'webhook-id': 'a, b' } })), ['Invalid Signature Headers', 'InvalidHeader', 'webhook-id']);
      same(caught(() => webhook.verify({ ...base, headers: { ...headers, 'webhook-timestamp': 'x' } })), ['Invalid Signature Headers', 'InvalidTimestamp', undefined]);
      same(caught(() => webhook.verify({ ...base, now: now + 301 })), ['Message timestamp too old', 'TimestampTooOld', undefined]);
      same(caught(() => webhook.verify({ ...base, now: now - 301 })), ['Message timestamp too new', 'TimestampTooNew', undefined]);
      same(caught(() => webhook.verify({ ...base, body: `${a1.payload} ` })), ['No matching signature found', 'NoMatchingSignature', undefined]);
      same(caught(() => webhook.verify({ ...base, headers: { ...headers, 'webhook-signature': 'v2,abc' } })), ['No matching signature found', 'NoSupportedSignature', undefined]);
    },
    'a secret that cannot be used is a plain Error, as npm standardwebhooks throws, not a rejection': () => {
      throwsConfig(m, () => new m.Webhook(''), 'InvalidSecret', /^Secret can't be empty\.$/);
      throwsConfig(m, () => new m.Webhook('whsec_'), 'InvalidSecret', /^Secret can't be empty\.$/);
      throwsConfig(m, () => new m.Webhook(new Uint8Array(0), { format: 'raw' }), 'InvalidSecret', /^Secret can't be empty\.$/);
      throwsConfig(m, () => new m.Webhook('', { format: 'raw' }), 'InvalidSecret', /^Secret can't be empty\.$/);
      throwsConfig(m, () => new m.Webhook('whsec_not base64!'), 'InvalidSecret', /base64/);
      throwsConfig(m, () => new m.Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw==='), 'InvalidSecret', /base64/);
      // A last group of one character holds no whole byte: upstream's decoder drops it, this refuses it.
      throwsConfig(m, () => new m.Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwA'), 'InvalidSecret', /base64/);
      throwsConfig(m, () => new m.Webhook(`whsec_${'A'.repeat(5464)}`), 'InvalidSecret', /4096 bytes/);
      throwsConfig(m, () => new m.Webhook([A, 'whsec_%%%%']), 'InvalidSecret');
      throwsConfig(m, () => new m.Webhook(Array(9).fill(A)), 'TooManyKeys');
      // Padding past the last quantum: upstream's decoder ignores up to two '=', and so the key is the same.
      const key = A.slice(6);
      for (const secret of [`${A}=`, `${A}==`, `${key}==`]) equal(new m.Webhook(secret).sign(a1.id, now, a1.payload), new m.Webhook(A).sign(a1.id, now, a1.payload), secret);
      const padded = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oDC2FVsBQ='; // 32 bytes: one '=' needed
      equal(new m.Webhook(`${padded}=`).sign(a1.id, now, a1.payload), new m.Webhook(padded).sign(a1.id, now, a1.payload));
      equal(new m.Webhook(padded.slice(0, -1)).sign(a1.id, now, a1.payload), new m.Webhook(padded).sign(a1.id, now, a1.payload));
    },
    'now must be Unix seconds, a finite number 0 or more': () => {
      const webhook = new m.Webhook(a1.secret);
      for (const bad of [NaN, Infinity, -Infinity, -1, '1614265330', 1614265330n, null]) {
        throwsType(() => webhook.verify({ headers, body: a1.payload, now: bad }), /now must be/);
      }
      equal(webhook.verify({ headers, body: a1.payload, now: now + 0.5 }), 0);
    },
    'sign is stricter than upstream: no empty id, no "." in the id, no invalid Date': () => {
      const webhook = new m.Webhook(a1.secret);
      throwsCode(m, () => webhook.sign('', now, a1.payload), 'InvalidId');
      throwsCode(m, () => webhook.sign('msg.1', now, a1.payload), 'InvalidId');
      throwsType(() => webhook.sign(a1.id, new Date(NaN), a1.payload), /timestamp/);
      throwsType(() => webhook.sign(a1.id, -1, a1.payload), /timestamp/);
    },
    'duplicated headers joined with ", " are InvalidHeader': () => {
      const webhook = new m.Webhook(a1.secret);
      const joined = new Headers(headers);
      joined.append('webhook-signature', 'v1,AAAA');
      throwsCode(m, () => webhook.verify({ headers: joined, body: a1.payload, now }), 'InvalidHeader');
      throwsCode(m, () => webhook.verify({ headers: { ...headers, 'webhook-id': `${a1.id}, other` }, body: a1.payload, now }), 'InvalidHeader');
      throwsCode(m, () => webhook.verify({ headers: { ...headers, 'webhook-timestamp': `${now},${now}` }, body: a1.payload, now }), 'InvalidHeader');
      throwsCode(m, () => webhook.verify({ headers: { ...headers, 'webhook-signature': [a1.signature, a1.signature] }, body: a1.payload, now }), 'InvalidHeader');
      webhook.free();
    },
    'bad input is a clear error, never a trap': async () => {
      throwsType(() => new m.Webhook(42), /secret must be a string/);
      throwsType(() => new m.Webhook([]), /secret must be a string/);
      throwsType(() => new m.Webhook(a1.secret, { tolerance: -1 }), /tolerance/);
      const webhook = new m.Webhook(a1.secret);
      throwsType(() => webhook.verify({ body: a1.payload, now }), /headers/);
      throwsType(() => webhook.verify({ headers: 'webhook-id: x', body: a1.payload, now }), /headers/);
      throwsType(() => webhook.verify({ headers, body: new ReadableStream(), now }), /ReadableStream/);
      throwsType(() => webhook.verify({ headers, body: 42, now }), /ArrayBuffer/);
      throwsType(() => webhook.verify({ headers, body: undefined, now }), /string, an ArrayBuffer/);
      // Views are their exact bytes: offset, length and element size included.
      const bytes = new TextEncoder().encode(`xx${a1.payload}yy`);
      equal(webhook.verify({ headers, body: new Uint8Array(bytes.buffer, 2, bytes.length - 4), now }), 0);
      equal(webhook.verify({ headers, body: new DataView(bytes.buffer, 2, bytes.length - 4), now }), 0);
      const even = new TextEncoder().encode(a1.payload);
      const padded = new Uint8Array(even.length + (even.length % 2));
      padded.set(even);
      if (even.length % 2 === 0) equal(webhook.verify({ headers, body: new Uint16Array(padded.buffer), now }), 0);
      equal(webhook.verify({ headers, body: even.buffer, now }), 0);
      let rejected = false;
      try {
        await m.verify({ secret: 42, headers, body: a1.payload, now });
      } catch (error) {
        rejected = error instanceof TypeError;
      }
      assert(rejected, 'a non-string secret rejects with a TypeError');
      webhook.free();
    },
    'a 16 MiB body verifies through the module\'s fixed buffers, as bytes and as a string': () => {
      const webhook = new m.Webhook(a1.secret);
      const big = new Uint8Array(16 * 1024 * 1024 + 3).fill(0x61);
      const signature = webhook.sign('msg_big', now, big);
      const h = { 'webhook-id': 'msg_big', 'webhook-timestamp': String(now), 'webhook-signature': signature };
      equal(webhook.verify({ headers: h, body: big, now }), 0);
      // Multi-byte characters across the chunk boundaries.
      const string = 'é€😀'.repeat(1 << 20);
      const signed = webhook.sign('msg_big', now, string);
      equal(webhook.verify({ headers: { ...h, 'webhook-signature': signed }, body: string, now }), 0);
      throwsCode(m, () => webhook.verify({ headers: { ...h, 'webhook-signature': signed }, body: `${string}x`, now }), 'NoMatchingSignature');
      // Every chunk boundary, as bytes and as text, against node:crypto.
      for (const size of [0, 1, 65535, 65536, 65537, 131072, 131073]) {
        const bytes = randomBytes(size);
        const string = 'a€'.repeat(size >> 1);
        for (const body of [bytes, string]) {
          const mac = createHmac('sha256', Buffer.from(a1.secret.slice(6), 'base64')).update(`msg_big.${now}.`).update(body).digest('base64');
          equal(webhook.verify({ headers: { ...h, 'webhook-signature': `v1,${mac}` }, body, now }), 0, `${size} ${typeof body}`);
        }
      }
      // Headers past the module's 32 KiB: refused, never written past.
      throwsCode(m, () => webhook.verify({ headers: { ...h, 'webhook-signature': `v1,${'A'.repeat(40000)}` }, body: big, now }), 'InvalidHeader');
      throwsCode(m, () => webhook.verify({ headers: { ...h, 'webhook-signature': `v1,${'é'.repeat(17000)}` }, body: big, now }), 'InvalidHeader');
    },
    'npm standardwebhooks\' API: verify(payload, headers) parses JSON, sign(id, Date, payload), raw keys': () => {
      const webhook = new m.Webhook(a1.secret.slice(6));
      const delivery = signedBy(A, 'msg_json', Math.floor(Date.now() / 1000));
      const withA = new m.Webhook(A);
      equal(withA.verify(delivery.body, delivery.headers).type, 'batch.succeeded');
      equal(withA.verify(new TextEncoder().encode(delivery.body), delivery.headers).type, 'batch.succeeded');
      equal(withA.verify(Buffer.from(delivery.body), new Headers(delivery.headers)).type, 'batch.succeeded');
      equal(webhook.sign(a1.id, new Date(now * 1000 + 999), a1.payload), a1.signature);
      const raw = Buffer.from(a1.secret.slice(6), 'base64');
      equal(new m.Webhook(raw, { format: 'raw' }).sign(a1.id, now, a1.payload), a1.signature);
      equal(new m.Webhook(Uint8Array.from(raw), { format: 'raw' }).verify({ headers, body: a1.payload, now }), 0);
      // A raw string is one byte per character, as upstream reads it.
      const text = 'not base64 at all!';
      const mac = createHmac('sha256', Buffer.from(text, 'latin1')).update(`${a1.id}.${now}.${a1.payload}`).digest('base64');
      equal(new m.Webhook(text, { format: 'raw' }).sign(a1.id, now, a1.payload), `v1,${mac}`);
      // A key changed by its owner after construction does not change the Webhook's.
      const mutable = Uint8Array.from(raw);
      const held = new m.Webhook(mutable, { format: 'raw' });
      mutable.fill(0);
      equal(held.sign(a1.id, now, a1.payload), a1.signature);
      const error = new m.WebhookVerificationError('custom');
      assert(error instanceof Error && error.message === 'custom' && error.name === 'WebhookVerificationError', 'constructed with a message');
      throwsCode(m, () => withA.verify('{}', delivery.headers), 'NoMatchingSignature');
      try {
        withA.verify(delivery.body, {});
      } catch (caught) {
        assert(/Missing required headers/.test(caught.message), caught.message);
      }
      throwsType(() => new m.Webhook(a1.secret, { format: 'hex' }), /format/);
      throwsType(() => webhook.sign(a1.id, new Date(NaN), a1.payload), /timestamp/);
    },
    'a second initSync never lets one key verify with another\'s': () => {
      const a = signedBy(A, 'msg_a', 1700000000);
      const b = signedBy(B, 'msg_b', 1700000000);
      m.initSync(bytes);
      const first = new m.Webhook(A);
      m.initSync(Uint8Array.from(bytes)); // the same bytes, another buffer: the same instance
      const second = new m.Webhook(B);
      equal(first.verify(a), 0);
      equal(second.verify(b), 0);
      throwsCode(m, () => first.verify(b), 'NoMatchingSignature');
      throwsCode(m, () => second.verify(a), 'NoMatchingSignature');
      // A different module: a separate instance; the Webhooks made before keep theirs.
      m.initSync(new WebAssembly.Module(bytes));
      const third = new m.Webhook(B);
      equal(third.verify(b), 0);
      equal(first.verify(a), 0);
      throwsCode(m, () => first.verify(b), 'NoMatchingSignature');
      throwsCode(m, () => third.verify(a), 'NoMatchingSignature');
      [first, second, third].forEach((webhook) => webhook.free());
    },
    'concurrent cold-start verify calls share one instance, and keys by secret': async () => {
      const cold = await fresh();
      const a = signedBy(A, 'msg_a', 1700000000);
      const b = signedBy(B, 'msg_b', 1700000000);
      const outcome = (promise) => promise.then(() => 'ok', (error) => error.code);
      const results = await Promise.all([
        outcome(cold.verify({ secret: A, ...a })),
        outcome(cold.verify({ secret: B, ...b })),
        outcome(cold.verify({ secret: A, ...b })),
      ]);
      equal(JSON.stringify(results), JSON.stringify(['ok', 'ok', 'NoMatchingSignature']));
      // Two tenants alternating: each keeps its own key.
      for (let i = 0; i < 3; i++) {
        equal(await outcome(cold.verify({ secret: A, ...a })), 'ok');
        equal(await outcome(cold.verify({ secret: B, ...a })), 'NoMatchingSignature');
      }
    },
    'svix-* headers are read when the webhook-* ones are absent': async () => {
      const a = signedBy(A, 'msg_svix', 1700000000);
      const svix = { 'Svix-Id': 'msg_svix', 'svix-timestamp': '1700000000', 'svix-signature': a.headers['webhook-signature'] };
      const webhook = new m.Webhook(A);
      equal(webhook.verify({ ...a, headers: svix }), 0);
      equal(webhook.verify({ ...a, headers: new Headers(svix) }), 0);
      // Both present: the webhook-* ones are used.
      throwsCode(m, () => webhook.verify({ ...a, headers: { ...svix, 'webhook-id': 'msg_other' } }), 'NoMatchingSignature');
      webhook.free();
      await m.verify({ secret: A, ...a, headers: svix });
    },
    'readBody: the exact bytes of a Request or of an async iterable, in chunks': async () => {
      const bytes = randomBytes(5000);
      const request = new Request('http://127.0.0.1/', { method: 'POST', body: bytes });
      equal(Buffer.compare(Buffer.from(await m.readBody(request)), bytes), 0);
      const node = Object.assign(chunked([bytes.subarray(0, 7), 'é', bytes.subarray(7)]), { headers: {} });
      equal(Buffer.compare(Buffer.from(await m.readBody(node)), Buffer.concat([bytes.subarray(0, 7), Buffer.from('é'), bytes.subarray(7)])), 0);
      equal((await m.readBody(new Request('http://127.0.0.1/'))).length, 0);
      const exact = new Request('http://127.0.0.1/', { method: 'POST', body: bytes });
      equal((await m.readBody(exact, { maxBytes: bytes.length })).length, bytes.length);
      const webhook = new m.Webhook(a1.secret);
      const delivery = new Request('http://127.0.0.1/', { method: 'POST', headers, body: a1.payload });
      equal(webhook.verify({ headers: delivery.headers, body: await m.readBody(delivery), now }), 0);
      webhook.free();
    },
    'readBody: a declared length over the limit is refused before any byte is read': async () => {
      let pulls = 0;
      // No queue to fill ahead: a chunk is pulled only when read.
      const stream = new ReadableStream({ pull(controller) { pulls++; controller.enqueue(new Uint8Array(10)); } }, { highWaterMark: 0 });
      const request = { headers: new Headers({ 'content-length': '1025' }), body: stream, arrayBuffer: () => { throw new Error('read'); } };
      await rejectsTooLarge(m, m.readBody(request, { maxBytes: 1024 }), 1024);
      equal(pulls, 0, 'chunks pulled');
      const node = Object.assign(chunked([]), { headers: { 'content-length': '99999999999999999999999' } });
      await rejectsTooLarge(m, m.readBody(node), m.MAX_BODY);
    },
    'readBody: an undeclared body is cut off at the first chunk past the limit, and the stream cancelled': async () => {
      let pulls = 0;
      let cancelled = false;
      const endless = new ReadableStream({
        pull(controller) { pulls++; controller.enqueue(new Uint8Array(100)); },
        cancel() { cancelled = true; },
      });
      const request = { headers: new Headers(), body: endless, arrayBuffer: () => { throw new Error('read'); } };
      await rejectsTooLarge(m, m.readBody(request, { maxBytes: 1000 }), 1000);
      assert(cancelled, 'the stream was not cancelled');
      assert(pulls <= 12, `${pulls} chunks pulled for a 1000-byte limit`);
      let yielded = 0;
      const node = Object.assign((async function* () { for (;;) { yielded++; yield new Uint8Array(100); } })(), { headers: {} });
      await rejectsTooLarge(m, m.readBody(node, { maxBytes: 1000 }), 1000);
      equal(yielded, 11, 'chunks read from the iterable');
    },
    'readBody: anything but a request is a TypeError': async () => {
      await rejectsType(m.readBody(undefined), /Request/);
      await rejectsType(m.readBody({ headers: {} }), /Request/);
      await rejectsType(m.readBody(new Request('http://127.0.0.1/'), { maxBytes: -1 }), /maxBytes/);
    },
    'any number of Webhooks, built and dropped at any rate, each with its own key': () => {
      const a = signedBy(A, 'msg_a', 1700000000);
      const b = signedBy(B, 'msg_b', 1700000000);
      const kept = [];
      for (let i = 0; i < 5000; i++) {
        const webhook = new m.Webhook(i % 2 ? A : B);
        equal(webhook.verify(i % 2 ? a : b), 0);
        if (i % 50 === 0) kept.push([webhook, i % 2 ? a : b, i % 2 ? b : a]);
      }
      // Interleaved use of many live Webhooks: each verifies with its own key only.
      for (const [webhook, own, other] of kept) {
        equal(webhook.verify(own), 0);
        throwsCode(m, () => webhook.verify(other), 'NoMatchingSignature');
      }
      equal(new m.Webhook(Array(8).fill(A)).verify(a), 0);
      throwsConfig(m, () => new m.Webhook(Array(9).fill(A)), 'TooManyKeys');
      const disposed = new m.Webhook(A);
      disposed[Symbol.dispose ?? Symbol.for('Symbol.dispose')]();
      assert(/freed/.test((() => { try { disposed.verify(a); } catch (e) { return e.message; } })()), 'disposed');
    },
  };
}
