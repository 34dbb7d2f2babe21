// Verify and sign Standard Webhooks deliveries in any JavaScript runtime with
// the webhook-signature wasm module (no imports, no clock, no allocator).
//
// - `new Webhook(secret, { format, tolerance })` and `verify(payload, headers)`,
//   `sign(id, Date, payload)`: the npm `standardwebhooks` 1.x API.
// - `verify({ headers, body, now })`: the same check, returning which secret
//   matched, with the clock passed in.
// - `verify({ secret, headers, body, now, tolerance })`: a one-call check.
// - `readBody(request, { maxBytes })`: a request's raw body, refused past a
//   size before it can exhaust memory.
//
// The entry points (index.mjs, workerd.mjs) tell this file where the compiled
// module comes from (`provideModule`); it is instantiated on first use, so a
// `Webhook` can be built synchronously at module scope. Each `Webhook` keeps
// its secrets in JavaScript and loads them into the module when it is used,
// so any number of them can exist and the garbage collector frees them like
// any object. The module checks the headers and the timestamp before any of
// the body is copied into it, then hashes the body in 64 KiB chunks: its
// memory does not grow with the body.

/** Error codes, by the module's status number: the webhook_signature::Error variants. */
const CODES = ['Ok', 'InvalidSecret', 'InvalidId', 'MissingHeader', 'MissingHeader', 'MissingHeader', 'InvalidHeader',
  'InvalidHeader', 'InvalidHeader', 'InvalidTimestamp', 'TimestampTooOld', 'TimestampTooNew', 'NoSupportedSignature',
  'NoMatchingSignature', 'CannotSign', 'BufferTooSmall', 'TooManyKeys', 'NotStarted'];
/**
 * Messages in npm `standardwebhooks`' exact words where it has one, so log searches and tests that match the
 * message keep working; the detail (which header) is in the error's `header` property, beside `code`.
 */
const MESSAGES = {
  InvalidId: 'Invalid message id',
  MissingHeader: 'Missing required headers',
  InvalidHeader: 'Invalid Signature Headers',
  InvalidTimestamp: 'Invalid Signature Headers',
  TimestampTooOld: 'Message timestamp too old',
  TimestampTooNew: 'Message timestamp too new',
  NoSupportedSignature: 'No matching signature found',
  NoMatchingSignature: 'No matching signature found',
};
const HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];
/** Read when the `webhook-*` names are absent, as the Rust adapters do (Svix, Clerk and Resend send these). */
const SVIX = ['svix-id', 'svix-timestamp', 'svix-signature'];
/** `readBody`'s default limit: 1 MiB. */
export const MAX_BODY = 1024 * 1024;
/** The most secrets one `Webhook` holds (`wasm/src/session.rs`, `MAX_KEYS`). */
export const MAX_SECRETS = 8;
/** Buffer sizes inside the module (`wasm/src/session.rs`). */
const HEADER_CAPACITY = 32 * 1024;
const CHUNK_CAPACITY = 64 * 1024;
const SECRET_TEXT = 0;
const SECRET_RAW = 1;

const utf8 = new TextEncoder();
// `ignoreBOM`: a body is parsed as the bytes it is, as Buffer#toString reads it.
const text = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Thrown for every rejected delivery, as npm `standardwebhooks` throws it (`new
 * WebhookVerificationError(message)`), with its message; `code` names the webhook_signature::Error variant.
 * A bad secret is not a rejected delivery: it is a plain `Error`, as upstream throws (see `secretError`).
 */
export class WebhookVerificationError extends Error {
  constructor(message, code = 'Unknown') {
    super(message);
    this.name = 'WebhookVerificationError';
    this.code = code;
  }
}

/** Thrown by `readBody` for a body over its limit: answer 413. */
export class BodyTooLargeError extends WebhookVerificationError {
  constructor(maxBytes) {
    super(`webhook body over the ${maxBytes}-byte limit`, 'BodyTooLarge');
    this.name = 'BodyTooLargeError';
    this.maxBytes = maxBytes;
  }
}

/** Throws the module's failure `status`: a WebhookVerificationError, or for a bad secret a plain Error. */
export function fail(status) {
  const code = CODES[status] ?? 'Unknown';
  if (code === 'InvalidSecret') throw secretError('Invalid secret: expected whsec_ followed by the base64 of a key of 1 to 4096 bytes');
  const error = new WebhookVerificationError(MESSAGES[code] ?? code, code);
  error.status = status;
  if (status >= 3 && status <= 8) error.header = HEADERS[(status - 3) % 3];
  throw error;
}

/**
 * A secret that cannot be used: a configuration error, thrown as npm `standardwebhooks` throws it (a plain
 * `Error`), so a handler that answers 401 for a WebhookVerificationError does not hide it. `code` says what it is.
 */
function secretError(message, code = 'InvalidSecret') {
  return Object.assign(new Error(message), { code });
}

/** One instantiated module: its exports, a view of its memory, and which `Webhook`'s keys it holds. */
class Instance {
  constructor(instance) {
    this.exports = instance.exports;
    this.view = new Uint8Array(this.exports.memory.buffer);
    this.chunk = this.exports.wh_chunk();
    this.out = this.exports.wh_out();
    /** The serial number of the `Webhook` whose keys are loaded; 0: none. */
    this.loaded = 0;
  }

  /** The linear memory as bytes; a new view after the memory grew (signing a large body). */
  memory() {
    if (this.view.buffer !== this.exports.memory.buffer) this.view = new Uint8Array(this.exports.memory.buffer);
    return this.view;
  }
}

/** The instance new `Webhook`s use, and what it was made from. */
let current = null;
let currentModule = null;
let currentBytes = null;
/** Returns the entry point's compiled module, synchronously. */
let defaultModule = null;

/** Called once by the entry point: where the compiled module comes from. Not part of the API. */
export function provideModule(get) {
  defaultModule = get;
}

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

/** The current instance, made from the entry point's module on first use. */
function ready() {
  if (!current) {
    if (!defaultModule) throw new Error('webhook-signature: no module; call init(source) or initSync(source) first');
    adopt(defaultModule(), null);
  }
  return current;
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
 * Not needed: the package instantiates its module on first use. With a source (a WebAssembly.Module, its bytes,
 * or a Response), `Webhook`s made afterwards use that module; later calls with the same source or bytes reuse it.
 */
export function init(source) {
  if (source === undefined) {
    try {
      ready();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }
  if (alreadyFrom(source)) return Promise.resolve();
  return instantiate(source);
}

/** As `init(source)`, synchronously, from a WebAssembly.Module or its bytes. */
export function initSync(source) {
  if (source === undefined) return void ready();
  if (alreadyFrom(source)) return;
  if (source instanceof WebAssembly.Module) return adopt(source, null);
  const bytes = bytesOf(source);
  if (!bytes) throw new TypeError('webhook-signature: initSync needs a WebAssembly.Module or its bytes');
  adopt(new WebAssembly.Module(bytes), bytes);
}

/** Why a request whose body something else already read cannot be verified. */
export function alreadyRead() {
  return new TypeError('webhook: the request body was already read (by a body parser such as express.json()?), so the '
    + 'signed bytes are gone; verify before anything reads it, or pass the raw bytes (express.raw(), req.rawBody)');
}

/**
 * The raw body of a Fetch `Request` (Workers, Deno, Node's fetch) or a Node
 * `IncomingMessage`, as one `Uint8Array`. A body declared (`Content-Length`)
 * over `maxBytes` is refused before any of it is read; one that is not
 * declared (chunked) is refused at the first chunk past it, and the rest is
 * left unread: a client cannot make the receiver hold more than `maxBytes`.
 * A body something else already read (`bodyUsed`, `readableEnded`) is a
 * TypeError, not an empty body that would fail later as NoMatchingSignature.
 */
export async function readBody(request, { maxBytes = MAX_BODY } = {}) {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new TypeError('maxBytes must be a whole number of bytes');
  if (request?.bodyUsed === true || request?.readableEnded === true) throw alreadyRead();
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

/** Whether `body` is a binary body: an ArrayBuffer (or shared) or any view of one. */
function isBinary(body) {
  return ArrayBuffer.isView(body) || body instanceof ArrayBuffer
    || (typeof SharedArrayBuffer !== 'undefined' && body instanceof SharedArrayBuffer);
}

/** The raw bytes of a binary body, or the string itself (encoded as it is copied). */
export function bodyBytes(body) {
  if (typeof body === 'string') return body;
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (isBinary(body)) return new Uint8Array(body);
  const kind = body === null ? 'null' : body?.constructor?.name ?? typeof body;
  throw new TypeError(`webhook body must be a string, an ArrayBuffer or an ArrayBufferView (Uint8Array, Buffer, DataView, …), not ${kind}; read a stream first, e.g. await request.arrayBuffer()`);
}

/** The three header values, '' where absent; `svix-*` when `webhook-*` is absent. A Fetch `Headers` joins a repeated header with ", ". */
export function headerValues(headers) {
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

/**
 * Writes a string as UTF-8 into `bytes` at `offset`, before `end`; returns the bytes written, or -1 if it does
 * not fit. ASCII, the usual case, is copied directly.
 */
function writeText(bytes, offset, end, value) {
  const length = value.length;
  if (offset + length > end) return -1;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0x7f) {
      const { read, written } = utf8.encodeInto(value, bytes.subarray(offset, end));
      return read === length ? written : -1;
    }
    bytes[offset + i] = code;
  }
  return length;
}

/**
 * Padding past the last quantum, as in `whsec_<32 base64 chars>==`: npm `standardwebhooks` ignores up to two
 * `=` at the end of a secret of 4 characters or more, and the key decoded without them is the same, so they are
 * dropped here too (the module accepts unpadded base64, and checks padding that is present).
 */
const OVER_PADDED = /^((?:whsec_)?[A-Za-z0-9+/]{4,})={1,2}$/;

/** A secret as the module loads it: its kind and its bytes (copied: a caller's later change cannot alter the key). */
function secretOf(secret, format) {
  let bytes;
  if (format === 'raw') {
    if (ArrayBuffer.isView(secret) || secret instanceof ArrayBuffer) bytes = Uint8Array.from(bodyBytes(secret));
    // As npm `standardwebhooks` reads a raw string: one byte per UTF-16 unit.
    else if (typeof secret === 'string') bytes = Uint8Array.from(secret, (c) => c.charCodeAt(0));
    if (bytes?.length === 0) throw secretError("Secret can't be empty.");
    if (bytes) return { kind: SECRET_RAW, bytes };
  } else {
    if (typeof secret === 'string') {
      if (secret === '' || secret === 'whsec_') throw secretError("Secret can't be empty.");
      return { kind: SECRET_TEXT, bytes: utf8.encode(secret.replace(OVER_PADDED, '$1')) };
    }
    if (secret instanceof Uint8Array) {
      if (secret.length === 0) throw secretError("Secret can't be empty.");
      return { kind: SECRET_RAW, bytes: Uint8Array.from(secret) };
    }
  }
  throw new TypeError('webhook secret must be a string (or, with { format: \'raw\' }, a Uint8Array), or a non-empty array of them');
}

const dispose = Symbol.dispose ?? Symbol.for('Symbol.dispose');
/** Numbers the `Webhook`s, so an instance knows whose keys it holds. */
let serials = 0;

/** Secrets checked once; synchronous `verify` and `sign`. Build as many as you like: nothing is reserved. */
export class Webhook {
  #secrets;
  #tolerance;
  #serial;
  /** The module instance it uses: never another's. */
  #instance;

  /**
   * @param secret `whsec_…` or bare base64 (`whpk_`/`whsk_` with the Ed25519 build), raw bytes with
   *   `{ format: 'raw' }`, or an array of up to eight of them during a rotation.
   * @param options `format: 'raw'` for raw key bytes; `tolerance`: the accepted clock difference in seconds (300).
   */
  constructor(secret, options = {}) {
    const { format, tolerance = 300 } = options ?? {};
    const instance = ready();
    const list = Array.isArray(secret) ? secret : [secret];
    if (list.length === 0) throw new TypeError('webhook secret must be a string, or a non-empty array of strings');
    if (list.length > MAX_SECRETS) throw secretError(`a Webhook holds at most ${MAX_SECRETS} secrets`, 'TooManyKeys');
    if (format !== undefined && format !== 'raw') throw new TypeError(`unknown secret format ${format}; the only one is 'raw'`);
    if (!Number.isSafeInteger(tolerance) || tolerance < 0) {
      throw new TypeError('tolerance must be a whole number of seconds, 0 or more');
    }
    const secrets = list.map((one) => secretOf(one, format));
    // All of them are loaded through the chunk buffer at once.
    if (secrets.reduce((sum, { bytes }) => sum + 5 + bytes.length, 0) > CHUNK_CAPACITY) {
      throw secretError(`secrets over ${CHUNK_CAPACITY} bytes together`);
    }
    this.#secrets = secrets;
    this.#tolerance = tolerance;
    this.#serial = ++serials;
    this.#instance = instance;
    // Loading checks the secrets, and leaves them ready for the first verify (a Webhook per request pays once).
    this.#load();
  }

  #live() {
    if (!this.#secrets) throw new Error('webhook-signature: this Webhook was freed');
  }

  /** Loads this Webhook's keys into its instance, unless they are there already. */
  #load() {
    const instance = this.#instance;
    if (instance.loaded === this.#serial) return;
    const mem = instance.memory();
    let at = instance.chunk;
    for (const { kind, bytes } of this.#secrets) {
      mem[at] = kind;
      new DataView(mem.buffer).setUint32(at + 1, bytes.length, true);
      mem.set(bytes, at + 5);
      at += 5 + bytes.length;
    }
    instance.loaded = 0;
    const status = instance.exports.wh_keys(this.#secrets.length, at - instance.chunk, this.#tolerance);
    mem.fill(0, instance.chunk, at); // the module keeps keyed hash states, not the secrets' text
    if (status !== 0) fail(status);
    instance.loaded = this.#serial;
  }

  /** Checks a delivery; returns the index of the secret that matched. */
  #check(headers, body, now) {
    this.#live();
    const [id, timestamp, signature] = headerValues(headers);
    const bytes = bodyBytes(body);
    // The module reads `now` as whole seconds, saturating: NaN or -1 would become 0, Infinity the far future.
    if (typeof now !== 'number' || !Number.isFinite(now) || now < 0) {
      throw new TypeError(`now must be Unix seconds, a finite number 0 or more, not ${String(now)}`);
    }
    if (id.length + timestamp.length + signature.length > HEADER_CAPACITY) fail(8);
    this.#load();
    const instance = this.#instance;
    const exports = instance.exports;
    // Headers first: the module checks them and the timestamp before any of the body is copied.
    const base = exports.wh_headers();
    const end = base + HEADER_CAPACITY;
    const mem = instance.memory();
    const idLength = writeText(mem, base, end, id);
    const timestampLength = idLength < 0 ? -1 : writeText(mem, base + idLength, end, timestamp);
    const signatureLength = timestampLength < 0 ? -1 : writeText(mem, base + idLength + timestampLength, end, signature);
    if (signatureLength < 0) fail(8);
    const status = exports.wh_begin(idLength, timestampLength, signatureLength, now);
    if (status !== 0) fail(status);
    const chunk = mem.subarray(instance.chunk, instance.chunk + CHUNK_CAPACITY);
    if (typeof bytes === 'string') {
      // Encoded straight into the module, a chunk at a time: no copy of the whole body.
      for (let rest = bytes; rest.length > 0;) {
        const { read, written } = utf8.encodeInto(rest, chunk);
        exports.wh_update(written);
        rest = rest.substring(read);
      }
    } else {
      for (let at = 0; at < bytes.length; at += CHUNK_CAPACITY) {
        const part = bytes.subarray(at, at + CHUNK_CAPACITY);
        chunk.set(part);
        exports.wh_update(part.length);
      }
    }
    const result = exports.wh_finish();
    if ((result & 0xff) !== 0) fail(result & 0xff);
    return result >>> 8;
  }

  /**
   * Verifies a delivery.
   *
   * - `verify(payload, headers, { jsonParse })`, as npm `standardwebhooks` 1.1: the clock is the system's; returns
   *   the payload parsed as JSON (`undefined` for an empty payload, and, with `jsonParse: false`, always).
   * - `verify({ headers, body, now })`: `now` in Unix seconds (default: the clock); returns the index of the secret
   *   that matched.
   *
   * Throws a WebhookVerificationError whose `code` names the failure.
   */
  verify(payload, headers, options) {
    if (arguments.length < 2 && !isBinary(payload) && typeof payload !== 'string') {
      const { headers, body, now = Math.floor(Date.now() / 1000) } = payload ?? {};
      return this.#check(headers, body, now);
    }
    this.#check(headers, payload, Math.floor(Date.now() / 1000));
    if (options?.jsonParse === false) return undefined;
    const json = typeof payload === 'string' ? payload : text.decode(bodyBytes(payload));
    return json === '' ? undefined : JSON.parse(json);
  }

  /**
   * The `webhook-signature` value for a delivery, one entry per secret. `timestamp`: a Date (as npm
   * `standardwebhooks`) or Unix seconds.
   */
  sign(msgId, timestamp, payload) {
    this.#live();
    if (typeof msgId !== 'string') throw new TypeError('webhook id must be a string');
    const seconds = timestamp instanceof Date ? Math.floor(timestamp.getTime() / 1000) : timestamp;
    if (!Number.isSafeInteger(seconds) || seconds < 0) throw new TypeError('timestamp must be a Date or whole Unix seconds, not before 1970');
    let bytes = bodyBytes(payload);
    if (typeof bytes === 'string') bytes = utf8.encode(bytes);
    this.#load();
    const instance = this.#instance;
    const exports = instance.exports;
    const base = exports.wh_headers();
    const idLength = writeText(instance.memory(), base, base + HEADER_CAPACITY, msgId);
    if (idLength < 0) fail(2);
    // Signing takes the body whole: a body past the chunk buffer goes to a region grown for it.
    const at = bytes.length <= CHUNK_CAPACITY ? instance.chunk : exports.wh_scratch(bytes.length);
    if (!at) throw new WebhookVerificationError('webhook-signature: linear memory cannot grow', 'OutOfMemory');
    instance.memory().set(bytes, at);
    const result = exports.wh_sign(idLength, seconds, at, bytes.length);
    if ((result & 0xff) !== 0) fail(result & 0xff);
    return text.decode(instance.memory().subarray(instance.out, instance.out + (result >>> 8)));
  }

  /** Drops the secrets; the Webhook cannot be used afterwards. Optional: nothing is reserved. */
  free() {
    for (const { bytes } of this.#secrets ?? []) bytes.fill(0);
    this.#secrets = undefined;
  }

  [dispose]() {
    this.free();
  }
}

/** Webhooks the one-call `verify` keeps, by tolerance and secret, least recently used first. */
const cache = new Map();
const CACHED = 16;

/** Resolves if the delivery is genuine and fresh; rejects with a WebhookVerificationError naming the failure. */
export async function verify({ secret, headers, body, now = Math.floor(Date.now() / 1000), tolerance = 300 }) {
  if (typeof secret !== 'string') throw new TypeError('webhook secret must be a string');
  // Keyed by secret: tenants that alternate never verify with each other's key.
  const key = `${tolerance}\n${secret}`;
  let entry = cache.get(key);
  cache.delete(key);
  if (!entry || entry.instance !== ready()) entry = { webhook: new Webhook(secret, { tolerance }), instance: current };
  if (cache.size >= CACHED) cache.delete(cache.keys().next().value);
  cache.set(key, entry);
  entry.webhook.verify({ headers, body, now });
}
