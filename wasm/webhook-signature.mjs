// Verify and sign Standard Webhooks deliveries in any JavaScript runtime with
// the webhook-signature wasm module (no imports, no clock, no allocator).
//
// - `new Webhook(secretOrSecrets, { tolerance })`: keys set up once inside the
//   module; `verify()` and `sign()` are synchronous.
// - `verify({ secret, headers, body, now, tolerance })`: the original
//   one-call API, kept as it was documented.
// - `readBody(request, { maxBytes })`: a request's raw body, refused past a
//   size before it can exhaust memory.
//
// Every `Webhook` holds the module instance it was keyed in (its exports and
// its memory), so a key can never be looked up in another instance's table.
// `init()`/`initSync()` are idempotent: the first instance (or the promise of
// it) is reused by later calls with no source, the same source, or the same
// bytes. A later call with a different module creates a separate instance for
// the `Webhook`s made after it; earlier ones keep theirs.

/** Error codes, by the module's status number: the webhook_signature::Error variants. */
const CODES = ['Ok', 'InvalidSecret', 'InvalidId', 'MissingHeader', 'MissingHeader', 'MissingHeader', 'InvalidHeader',
  'InvalidHeader', 'InvalidHeader', 'InvalidTimestamp', 'TimestampTooOld', 'TimestampTooNew', 'NoSupportedSignature',
  'NoMatchingSignature', 'CannotSign', 'BufferTooSmall', 'TooManyKeys'];
const HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];
/** Read when the `webhook-*` names are absent, as the Rust adapters do (Svix, Clerk and Resend send these). */
const SVIX = ['svix-id', 'svix-timestamp', 'svix-signature'];
/** Keys the module holds at once (`wasm/src/keys.rs`, `SLOTS`). */
export const KEY_SLOTS = 64;
/** The largest body accepted: 16 MiB. Linear memory grows once to fit it, then is reused. */
export const MAX_BODY = 16 * 1024 * 1024;
/** Longest `webhook-signature` entry (`v1a,` + 88 base64 characters), plus a space. */
const ENTRY = 4 + 88 + 1;

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Thrown for every rejected delivery or key; `code` names the webhook_signature::Error variant. */
export class WebhookVerificationError extends Error {
  constructor(code, message = code) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.code = code;
  }
}

function fail(status) {
  const code = CODES[status] ?? 'Unknown';
  const header = status >= 3 && status <= 8 ? ` (${HEADERS[(status - 3) % 3]})` : '';
  throw Object.assign(new WebhookVerificationError(code, `webhook rejected: ${code}${header}`), { status });
}

/** One instantiated module: its exports, a view of its memory, and the registry freeing its key slots. */
class Instance {
  constructor(instance) {
    this.exports = instance.exports;
    this.view = new Uint8Array(this.exports.memory.buffer);
    const free = this.exports.wh_key_free;
    this.registry = typeof FinalizationRegistry === 'undefined'
      ? { register() {}, unregister() {} }
      : new FinalizationRegistry(([start, count]) => free(start, count));
  }

  /** The linear memory as bytes; a new view after the memory grew. */
  memory() {
    if (this.view.buffer !== this.exports.memory.buffer) this.view = new Uint8Array(this.exports.memory.buffer);
    return this.view;
  }

  /** Scratch memory for `size` bytes of inputs; its address. */
  scratch(size) {
    const base = this.exports.wh_scratch(size);
    if (!base) throw new WebhookVerificationError('OutOfMemory', 'webhook-signature: linear memory cannot grow');
    return base;
  }
}

/** The instance new `Webhook`s are keyed in, and what it was made from. */
let current = null;
let currentModule = null;
let currentBytes = null;
/** The first argument-less `init()`'s promise, kept before its first `await` so concurrent calls share it. */
let pending = null;

function bytesOf(source) {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return null;
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `source` is what the current instance was made from. */
function alreadyFrom(source) {
  if (!current) return false;
  if (source === currentModule) return true;
  const bytes = bytesOf(source);
  return bytes !== null && currentBytes !== null && sameBytes(bytes, currentBytes);
}

function adopt(module, bytes) {
  current = new Instance(new WebAssembly.Instance(module, {}));
  currentModule = module;
  currentBytes = bytes && Uint8Array.from(bytes);
}

/**
 * The module file beside this one: read with node:fs for a `file:` URL (Node, Bun), imported as the
 * package's `.wasm` export in workerd (a Worker cannot fetch its own files), fetched otherwise (Deno, browsers).
 */
async function defaultSource() {
  if (globalThis.navigator?.userAgent === 'Cloudflare-Workers') {
    return (await import('webhook-signature-wasm/webhook_signature_wasm.wasm')).default;
  }
  const url = new URL('./webhook_signature_wasm.wasm', import.meta.url);
  if (url.protocol === 'file:' && typeof process !== 'undefined' && process.versions?.node) {
    const { readFile } = await import('node:fs/promises');
    return readFile(url);
  }
  return fetch(url);
}

async function instantiate(source) {
  let resolved = await source;
  if (typeof Response !== 'undefined' && resolved instanceof Response) resolved = await resolved.arrayBuffer();
  if (alreadyFrom(resolved)) return;
  if (resolved instanceof WebAssembly.Module) return adopt(resolved, null);
  const bytes = bytesOf(resolved);
  if (!bytes) throw new TypeError('webhook-signature: init needs a WebAssembly.Module, its bytes, or a Response');
  adopt(await WebAssembly.compile(bytes), bytes);
}

/**
 * Instantiates the module from a WebAssembly.Module, its bytes, a Response, or (by default) the file beside this
 * one, in Node, Deno, Bun, workerd and browsers. Idempotent: later calls with no source, the same source or the
 * same bytes reuse the first instance; concurrent calls share one promise.
 */
export function init(source) {
  if (source === undefined) {
    if (current) return Promise.resolve();
    if (!pending) {
      pending = instantiate(defaultSource());
      // A failed load (no file, no network) may be retried by a later call.
      pending.catch(() => { pending = null; });
    }
    return pending;
  }
  if (alreadyFrom(source)) return Promise.resolve();
  return instantiate(source);
}

/** Instantiates the module synchronously from a WebAssembly.Module or its bytes; idempotent like `init`. */
export function initSync(source) {
  if (alreadyFrom(source)) return;
  if (source instanceof WebAssembly.Module) return adopt(source, null);
  const bytes = bytesOf(source);
  if (!bytes) throw new TypeError('webhook-signature: initSync needs a WebAssembly.Module or its bytes');
  adopt(new WebAssembly.Module(bytes), bytes);
}

function ready() {
  if (!current) throw new Error('webhook-signature: call init() (or initSync()) first');
  return current;
}

/** Thrown by `readBody` for a body over its limit: answer 413. */
export class BodyTooLargeError extends RangeError {
  constructor(maxBytes) {
    super(`webhook body over the ${maxBytes}-byte limit`);
    this.name = 'BodyTooLargeError';
    this.code = 'BodyTooLarge';
    this.maxBytes = maxBytes;
  }
}

/**
 * The raw body of a Fetch `Request` (Workers, Deno, Node's fetch) or a Node
 * `IncomingMessage`, as one `Uint8Array`. A body declared (`Content-Length`)
 * over `maxBytes` is refused before any of it is read; one that is not
 * declared (chunked) is refused at the first chunk past it, and the rest is
 * left unread: a client cannot make the receiver hold more than `maxBytes`.
 */
export async function readBody(request, { maxBytes = MAX_BODY } = {}) {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new TypeError('maxBytes must be a whole number of bytes');
  const headers = request?.headers;
  const declared = typeof headers?.get === 'function' ? headers.get('content-length') : headers?.['content-length'];
  // Digits only: anything else is for the HTTP server to refuse, and a
  // number too long to be exact is still over any limit.
  if (typeof declared === 'string' && /^[0-9]+$/.test(declared) && Number(declared) > maxBytes) {
    throw new BodyTooLargeError(maxBytes);
  }
  const stream = request?.body;
  if (stream === null && typeof request?.arrayBuffer === 'function') return new Uint8Array(0);
  const reader = typeof stream?.getReader === 'function' ? stream.getReader() : undefined;
  if (!reader && typeof request?.[Symbol.asyncIterator] !== 'function') {
    throw new TypeError('readBody needs a Fetch Request or a Node IncomingMessage');
  }
  const chunks = [];
  let total = 0;
  const take = (chunk) => {
    const bytes = typeof chunk === 'string' ? utf8.encode(chunk) : bodyBytes(chunk);
    total += bytes.length;
    if (total > maxBytes) throw new BodyTooLargeError(maxBytes);
    chunks.push(bytes);
  };
  if (reader) {
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read()) take(read.value);
    } catch (error) {
      reader.cancel(error).catch(() => {}); // stop the transfer; the answer is already decided
      throw error;
    }
  } else {
    for await (const chunk of request) take(chunk); // leaving the loop pauses the stream
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return body;
}

/** The raw bytes of a body: a string (as UTF-8) or any binary view of its exact bytes. */
function bodyBytes(body) {
  if (typeof body === 'string') return utf8.encode(body);
  if (body instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && body instanceof SharedArrayBuffer)) {
    return new Uint8Array(body);
  }
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  const kind = body === null ? 'null' : body?.constructor?.name ?? typeof body;
  throw new TypeError(`webhook body must be a string, an ArrayBuffer or an ArrayBufferView (Uint8Array, Buffer, DataView, …), not ${kind}; read a stream first, e.g. await request.arrayBuffer()`);
}

/** The three header values, '' where absent; `svix-*` when `webhook-*` is absent. A Fetch `Headers` joins a repeated header with ", ". */
function headerValues(headers) {
  let values;
  if (typeof headers?.get === 'function') {
    values = [0, 1, 2].map((i) => headers.get(HEADERS[i]) ?? headers.get(SVIX[i]));
  } else if (headers !== null && typeof headers === 'object') {
    values = [undefined, undefined, undefined];
    const svix = [undefined, undefined, undefined];
    for (const key in headers) {
      if (key.length < 7 || key.length > 17) continue;
      const name = key.toLowerCase();
      let index = HEADERS.indexOf(name);
      let into = values;
      if (index < 0) {
        index = SVIX.indexOf(name);
        into = svix;
      }
      if (index >= 0) {
        const value = headers[key];
        into[index] = Array.isArray(value) ? (value.length === 1 ? value[0] : `${value.join(', ')}, `) : value;
      }
    }
    values = values.map((value, i) => value ?? svix[i]);
  } else {
    throw new TypeError('webhook headers must be a Fetch Headers object or a plain object of header values');
  }
  for (let i = 0; i < 3; i++) {
    const value = values[i] == null ? '' : String(values[i]);
    // A header sent twice: for the signature, ", " joins entries that must be
    // space-separated; an id or a timestamp never holds a comma.
    if (i === 2 ? value.includes(', ') : value.includes(',')) fail(6 + i);
    values[i] = value;
  }
  return values;
}

/** Writes a string as UTF-8 at `offset`; returns the bytes written. ASCII, the usual case, is copied directly. */
function writeText(bytes, offset, value) {
  const length = value.length;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0x7f) return utf8.encodeInto(value, bytes.subarray(offset)).written;
    bytes[offset + i] = code;
  }
  return length;
}

const dispose = Symbol.dispose ?? Symbol.for('Symbol.dispose');

/** Secrets set up once inside the module; synchronous `verify` and `sign`. */
export class Webhook {
  #start = -1;
  #count = 0;
  /** The module instance holding this Webhook's keys: never another's. */
  #instance;

  /**
   * @param secretOrSecrets `whsec_…` (or `whpk_`/`whsk_` with the Ed25519 build), or several during a rotation.
   * @param options `tolerance`: the accepted clock difference in seconds (default 300).
   */
  constructor(secretOrSecrets, { tolerance = 300 } = {}) {
    const instance = ready();
    const exports = instance.exports;
    const secrets = Array.isArray(secretOrSecrets) ? secretOrSecrets : [secretOrSecrets];
    if (secrets.length === 0 || secrets.some((secret) => typeof secret !== 'string')) {
      throw new TypeError('webhook secret must be a string, or a non-empty array of strings');
    }
    if (!Number.isSafeInteger(tolerance) || tolerance < 0) {
      throw new TypeError('tolerance must be a whole number of seconds, 0 or more');
    }
    const start = exports.wh_key_reserve(secrets.length);
    if (start < 0) {
      throw new WebhookVerificationError('TooManyKeys',
        `webhook-signature: the module holds at most ${KEY_SLOTS} keys (${exports.wh_key_free_slots()} free); free() unused Webhook instances`);
    }
    for (let i = 0; i < secrets.length; i++) {
      const pointer = instance.scratch(secrets[i].length * 3);
      const length = writeText(instance.memory(), pointer, secrets[i]);
      const status = exports.wh_key_set(start + i, pointer, length, BigInt(tolerance));
      if (status !== 0) {
        exports.wh_key_free(start, secrets.length);
        fail(status);
      }
    }
    this.#start = start;
    this.#count = secrets.length;
    this.#instance = instance;
    instance.registry.register(this, [start, secrets.length], this);
  }

  #live() {
    if (this.#count === 0) throw new Error('webhook-signature: this Webhook was freed');
  }

  /**
   * Verifies a delivery; returns the index of the secret that matched, or
   * throws a WebhookVerificationError whose `code` names the failure.
   */
  verify({ headers, body, now = Math.floor(Date.now() / 1000) } = {}) {
    this.#live();
    const [id, timestamp, signature] = headerValues(headers);
    const bytes = bodyBytes(body);
    if (bytes.length > MAX_BODY) throw new RangeError(`webhook body of ${bytes.length} bytes is over the ${MAX_BODY}-byte maximum`);
    if (typeof now !== 'number') throw new TypeError('now must be Unix seconds, a number');
    const instance = this.#instance;
    const base = instance.scratch(3 * (id.length + timestamp.length + signature.length) + bytes.length);
    const mem = instance.memory();
    const idLength = writeText(mem, base, id);
    const timestampAt = base + idLength;
    const timestampLength = writeText(mem, timestampAt, timestamp);
    const signatureAt = timestampAt + timestampLength;
    const signatureLength = writeText(mem, signatureAt, signature);
    const bodyAt = signatureAt + signatureLength;
    mem.set(bytes, bodyAt);
    const result = instance.exports.wh_key_verify(this.#start, this.#count, base, idLength, timestampAt, timestampLength,
      signatureAt, signatureLength, bodyAt, bytes.length, now);
    if ((result & 0xff) !== 0) fail(result & 0xff);
    return result >>> 8;
  }

  /** The `webhook-signature` value for a delivery: one entry per secret. `timestamp` is in Unix seconds. */
  sign(id, timestamp, body) {
    this.#live();
    if (typeof id !== 'string') throw new TypeError('webhook id must be a string');
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new TypeError('timestamp must be whole Unix seconds');
    const bytes = bodyBytes(body);
    if (bytes.length > MAX_BODY) throw new RangeError(`webhook body of ${bytes.length} bytes is over the ${MAX_BODY}-byte maximum`);
    const capacity = this.#count * ENTRY;
    const instance = this.#instance;
    const base = instance.scratch(id.length * 3 + bytes.length + capacity + 8);
    const mem = instance.memory();
    const idLength = writeText(mem, base, id);
    const bodyAt = base + idLength;
    mem.set(bytes, bodyAt);
    const lengthAt = (bodyAt + bytes.length + 3) & ~3;
    const out = lengthAt + 4;
    const status = instance.exports.wh_key_sign(this.#start, this.#count, base, idLength, BigInt(timestamp), bodyAt, bytes.length, out, capacity, lengthAt);
    if (status !== 0) fail(status);
    const bytesOut = instance.memory();
    const length = new DataView(bytesOut.buffer).getUint32(lengthAt, true);
    return text.decode(bytesOut.subarray(out, out + length));
  }

  /** Releases the key slots. The instance cannot be used afterwards. */
  free() {
    if (this.#count === 0) return;
    this.#instance.exports.wh_key_free(this.#start, this.#count);
    this.#instance.registry.unregister(this);
    this.#count = 0;
  }

  [dispose]() {
    this.free();
  }
}

/** Keys the one-call `verify` keeps set up, by tolerance and secret, least recently used first. */
const cache = new Map();
/** How many secrets the one-call `verify` keeps set up (a quarter of the module's slots). */
const CACHED_KEYS = 16;

/** Resolves if the delivery is genuine and fresh; throws an Error whose `code` names the webhook_signature::Error variant. */
export async function verify({ secret, headers, body, now = Math.floor(Date.now() / 1000), tolerance = 300 }) {
  if (!current) await init();
  if (typeof secret !== 'string') throw new TypeError('webhook secret must be a string');
  // Keyed by secret: tenants that alternate never verify with each other's
  // key, and each key is set up once. A key of an older instance is dropped.
  const key = `${tolerance}\n${secret}`;
  let entry = cache.get(key);
  cache.delete(key);
  if (entry && entry.instance !== current) {
    entry.webhook.free();
    entry = undefined;
  }
  if (!entry) {
    entry = { webhook: new Webhook(secret, { tolerance }), instance: current };
    if (cache.size >= CACHED_KEYS) {
      const [oldest, evicted] = cache.entries().next().value;
      evicted.webhook.free();
      cache.delete(oldest);
    }
  }
  cache.set(key, entry);
  entry.webhook.verify({ headers, body, now });
}
