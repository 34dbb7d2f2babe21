// Verify and sign Standard Webhooks deliveries in any JavaScript runtime with
// the webhook-signature wasm module (no imports, no clock, no allocator).
//
// - `new Webhook(secretOrSecrets, { tolerance })`: keys set up once inside the
//   module; `verify()` and `sign()` are synchronous.
// - `verify({ secret, headers, body, now, tolerance })`: the original
//   one-call API, kept as it was documented.

/** Error codes, by the module's status number: the webhook_signature::Error variants. */
const CODES = ['Ok', 'InvalidSecret', 'InvalidId', 'MissingHeader', 'MissingHeader', 'MissingHeader', 'InvalidHeader',
  'InvalidHeader', 'InvalidHeader', 'InvalidTimestamp', 'TimestampTooOld', 'TimestampTooNew', 'NoSupportedSignature',
  'NoMatchingSignature', 'CannotSign', 'BufferTooSmall', 'TooManyKeys'];
const HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];
/** Keys the module holds at once (`wasm/src/keys.rs`, `SLOTS`). */
export const KEY_SLOTS = 64;
/** The largest body accepted: 16 MiB. Linear memory grows once to fit it, then is reused. */
export const MAX_BODY = 16 * 1024 * 1024;
/** Longest `webhook-signature` entry (`v1a,` + 88 base64 characters), plus a space. */
const ENTRY = 4 + 88 + 1;

const utf8 = new TextEncoder();
const text = new TextDecoder();
let exports;
let view = new Uint8Array(0);

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

function attach(instance) {
  exports = instance.exports;
  view = new Uint8Array(exports.memory.buffer);
}

/** Instantiates the module from a WebAssembly.Module, its bytes, a Response, or (by default) the file beside this one. */
export async function init(source = fetch(new URL('./webhook_signature_wasm.wasm', import.meta.url))) {
  source = await source;
  if (typeof Response !== 'undefined' && source instanceof Response) source = await source.arrayBuffer();
  const result = await WebAssembly.instantiate(source, {});
  attach(result.instance ?? result);
}

/** Instantiates the module synchronously from a WebAssembly.Module or its bytes. */
export function initSync(source) {
  const module = source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source);
  attach(new WebAssembly.Instance(module, {}));
}

function ready() {
  if (!exports) throw new Error('webhook-signature: call init() (or initSync()) first');
}

/** The linear memory as bytes; a new view after the memory grew. */
function memory() {
  if (view.buffer !== exports.memory.buffer) view = new Uint8Array(exports.memory.buffer);
  return view;
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

/** The three header values, '' where absent. A Fetch `Headers` joins a repeated header with ", ". */
function headerValues(headers) {
  let values;
  if (typeof headers?.get === 'function') {
    values = [headers.get(HEADERS[0]), headers.get(HEADERS[1]), headers.get(HEADERS[2])];
  } else if (headers !== null && typeof headers === 'object') {
    values = ['', '', ''];
    for (const key in headers) {
      const index = key.length >= 10 && key.length <= 17 ? HEADERS.indexOf(key.toLowerCase()) : -1;
      if (index >= 0) {
        const value = headers[key];
        values[index] = Array.isArray(value) ? (value.length === 1 ? value[0] : `${value.join(', ')}, `) : value;
      }
    }
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

/** Scratch memory for `size` bytes of inputs; its address. */
function scratch(size) {
  const base = exports.wh_scratch(size);
  if (!base) throw new WebhookVerificationError('OutOfMemory', 'webhook-signature: linear memory cannot grow');
  return base;
}

const registry = typeof FinalizationRegistry === 'undefined'
  ? { register() {}, unregister() {} }
  : new FinalizationRegistry(([start, count]) => exports.wh_key_free(start, count));
const dispose = Symbol.dispose ?? Symbol.for('Symbol.dispose');

/** Secrets set up once inside the module; synchronous `verify` and `sign`. */
export class Webhook {
  #start = -1;
  #count = 0;

  /**
   * @param secretOrSecrets `whsec_…` (or `whpk_`/`whsk_` with the Ed25519 build), or several during a rotation.
   * @param options `tolerance`: the accepted clock difference in seconds (default 300).
   */
  constructor(secretOrSecrets, { tolerance = 300 } = {}) {
    ready();
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
      const pointer = scratch(secrets[i].length * 3);
      const length = writeText(memory(), pointer, secrets[i]);
      const status = exports.wh_key_set(start + i, pointer, length, BigInt(tolerance));
      if (status !== 0) {
        exports.wh_key_free(start, secrets.length);
        fail(status);
      }
    }
    this.#start = start;
    this.#count = secrets.length;
    registry.register(this, [start, secrets.length], this);
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
    const base = scratch(3 * (id.length + timestamp.length + signature.length) + bytes.length);
    const mem = memory();
    const idLength = writeText(mem, base, id);
    const timestampAt = base + idLength;
    const timestampLength = writeText(mem, timestampAt, timestamp);
    const signatureAt = timestampAt + timestampLength;
    const signatureLength = writeText(mem, signatureAt, signature);
    const bodyAt = signatureAt + signatureLength;
    mem.set(bytes, bodyAt);
    const result = exports.wh_key_verify(this.#start, this.#count, base, idLength, timestampAt, timestampLength,
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
    const base = scratch(id.length * 3 + bytes.length + capacity + 8);
    const mem = memory();
    const idLength = writeText(mem, base, id);
    const bodyAt = base + idLength;
    mem.set(bytes, bodyAt);
    const lengthAt = (bodyAt + bytes.length + 3) & ~3;
    const out = lengthAt + 4;
    const status = exports.wh_key_sign(this.#start, this.#count, base, idLength, BigInt(timestamp), bodyAt, bytes.length, out, capacity, lengthAt);
    if (status !== 0) fail(status);
    const bytesOut = memory();
    const length = new DataView(bytesOut.buffer).getUint32(lengthAt, true);
    return text.decode(bytesOut.subarray(out, out + length));
  }

  /** Releases the key slots. The instance cannot be used afterwards. */
  free() {
    if (this.#count === 0) return;
    exports.wh_key_free(this.#start, this.#count);
    registry.unregister(this);
    this.#count = 0;
  }

  [dispose]() {
    this.free();
  }
}

let cached = { key: null, webhook: null };

/** Resolves if the delivery is genuine and fresh; throws an Error whose `code` names the webhook_signature::Error variant. */
export async function verify({ secret, headers, body, now = Math.floor(Date.now() / 1000), tolerance = 300 }) {
  if (!exports) await init();
  if (typeof secret !== 'string') throw new TypeError('webhook secret must be a string');
  // The last key is kept, so a handler verifying with one secret sets it up once.
  const key = `${tolerance}\n${secret}`;
  if (cached.key !== key) {
    const webhook = new Webhook(secret, { tolerance });
    cached.webhook?.free();
    cached = { key, webhook };
  }
  cached.webhook.verify({ headers, body, now });
}
