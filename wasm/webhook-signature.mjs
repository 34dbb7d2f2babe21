// Verify Standard Webhooks deliveries in any JavaScript runtime with the
// webhook-signature wasm module (no imports, no clock, no allocator).
const CODES = ['Ok', 'InvalidSecret', 'InvalidId', 'MissingHeader', 'MissingHeader', 'MissingHeader', 'InvalidHeader',
  'InvalidHeader', 'InvalidHeader', 'InvalidTimestamp', 'TimestampTooOld', 'TimestampTooNew', 'NoSupportedSignature',
  'NoMatchingSignature', 'CannotSign', 'BufferTooSmall'];
const HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];
const utf8 = new TextEncoder();
let exports;

/** Instantiates the module from a WebAssembly.Module, bytes, or (by default) the file beside this one. */
export async function init(source = fetch(new URL('./webhook_signature_wasm.wasm', import.meta.url))) {
  source = await source;
  if (source instanceof Response) source = await source.arrayBuffer();
  const result = await WebAssembly.instantiate(source, {});
  exports = (result.instance ?? result).exports;
}

const bytes = (value) => typeof value === 'string' ? utf8.encode(value) : new Uint8Array(value ?? []);
const header = (headers, name) =>
  (typeof headers.get === 'function' ? headers.get(name) : Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1]) ?? '';

/** Resolves if the delivery is genuine and fresh; throws an Error whose `code` names the webhook_signature::Error variant. */
export async function verify({ secret, headers, body, now = Math.floor(Date.now() / 1000), tolerance = 300 }) {
  if (!exports) await init();
  const parts = [secret, ...HEADERS.map((name) => header(headers, name)), body].map(bytes);
  const base = exports.wh_scratch(parts.reduce((sum, part) => sum + part.length, 0));
  if (!base) throw Object.assign(new Error('out of memory'), { code: 'OutOfMemory' });
  const args = [];
  for (let offset = base, i = 0; i < parts.length; offset += parts[i].length, i++) {
    new Uint8Array(exports.memory.buffer, offset, parts[i].length).set(parts[i]);
    args.push(offset, parts[i].length);
  }
  const status = exports.wh_verify(...args, BigInt(now), BigInt(tolerance));
  if (status !== 0) {
    const code = CODES[status] ?? 'Unknown';
    throw Object.assign(new Error(`webhook rejected: ${code}${status >= 3 && status <= 8 ? ` (${HEADERS[(status - 3) % 3]})` : ''}`), { code, status });
  }
}
