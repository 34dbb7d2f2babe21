// Whether a verified dynamic token also authenticates the body it came with
// (gemini/src/binding.rs): only through a claim *named* for it, a digest of
// the exact bytes or the event embedded and equal to the body's JSON (read as
// I-JSON, numbers compared by kind, as serde_json compares them).
import { encodeBase64url, hex } from './base64url.mjs';
import { JsonNumber, parseJson } from './json.mjs';

/** Claim names that say "this is a digest of the body", compared normalised (gemini/src/binding.rs). */
export const BODY_DIGEST_CLAIMS = ['body_sha256', 'body_hash', 'body_digest', 'body_sha_256', 'payload_sha256', 'payload_hash',
  'payload_digest', 'request_body_sha256', 'webhook_body_sha256', 'body.sha256', 'body.hash', 'body.digest',
  'payload.sha256', 'payload.hash', 'payload.digest', 'webhook.sha256', 'webhook.body_sha256'];
/** Claim names that embed the event itself, compared as BODY_DIGEST_CLAIMS are. */
export const EMBEDDED_EVENT_CLAIMS = ['event', 'payload', 'body', 'webhook_event', 'webhook.event', 'webhook.payload', 'webhook.body'];

/** Lower case, without the separators `_`, `-` and `.`. */
const normalize = (name) => name.replace(/[_.-]/g, '').toLowerCase();
const DIGEST_NAMES = new Set(BODY_DIGEST_CLAIMS.map(normalize));
const EVENT_NAMES = new Set(EMBEDDED_EVENT_CLAIMS.map(normalize));
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A JSON object (as parseJson makes them), not an array, null or a number. */
export const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof JsonNumber);

/** Which claims can bind: the known names (`undefined`), or only these, as `require_body_bound_by` names them. */
export function bodyClaims(names) {
  return names === undefined ? undefined : new Set([names].flat().map(normalize));
}

/** How the claim `name` would bind the body: 'digest', 'event', or undefined. */
function form(names, name, value) {
  const normalized = normalize(name);
  if (names === undefined) return DIGEST_NAMES.has(normalized) ? 'digest' : EVENT_NAMES.has(normalized) ? 'event' : undefined;
  if (!names.has(normalized)) return undefined;
  return isObject(value) ? 'event' : 'digest';
}

/** Names in serde_json's map order: by code point (UTF-8 byte order). */
const sorted = (object) => Object.keys(object).sort((a, b) => {
  const [x, y] = [[...a], [...b]];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i].codePointAt(0) - y[i].codePointAt(0);
  }
  return x.length - y.length;
});

/**
 * The claim that binds `body` (SHA-256 `digest`), or undefined; `claims` as parsed with `tagged`. Throws
 * 'BodyMismatch' (through `reject`) when a digest claim holds anything but this body's digest.
 */
export function bodyBinding(claims, body, digest, names, reject) {
  const url = encodeBase64url(digest);
  const standard = btoa(String.fromCharCode(...digest));
  const encodings = new Set([url, `${url}=`, standard, standard.replace(/=+$/, '')]);
  const lower = hex(digest);
  const isDigest = (value) => typeof value === 'string'
    && (encodings.has(value) || (value.length === lower.length && value.replace(/[A-F]/g, (c) => c.toLowerCase()) === lower));
  let bodyJson = null;
  const embeds = (value) => {
    if (!isObject(value)) return false;
    if (bodyJson === null) {
      let text;
      try {
        text = strictUtf8.decode(body);
      } catch {
        text = undefined;
      }
      bodyJson = { value: text === undefined ? undefined : parseJson(text, { ijson: true, tagged: true })?.value };
    }
    return bodyJson.value !== undefined && equal(bodyJson.value, value);
  };
  const named = [];
  const add = (name, value) => {
    const how = form(names, name, value);
    if (how) named.push([name, value, how]);
  };
  for (const name of sorted(claims)) {
    add(name, claims[name]);
    if (isObject(claims[name])) for (const inner of sorted(claims[name])) add(`${name}.${inner}`, claims[name][inner]);
  }
  // A digest claim that names another body decides first, whatever else binds.
  if (named.some(([, value, how]) => how === 'digest' && !isDigest(value))) reject('BodyMismatch', 'the token names another body');
  return named.find(([, value, how]) => (how === 'digest' ? isDigest(value) : embeds(value)))?.[0];
}

/** Equality of tagged JSON values, as serde_json's `Value` compares them (member order does not matter). */
export function equal(a, b) {
  if (a instanceof JsonNumber) return a.equals(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b) || b instanceof JsonNumber) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && equal(a[key], b[key]));
}

/** A JavaScript value in tagged form: an integral number (or a bigint) is an integer, any other number a float. */
export function tag(value) {
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('a required claim value must be JSON');
    const integral = typeof value === 'bigint' || Number.isInteger(value);
    return new JsonNumber(integral ? BigInt(value).toString() : value.toExponential());
  }
  if (Array.isArray(value)) return value.map(tag);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, tag(inner)]));
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  throw new TypeError(`a required claim value must be JSON, not ${typeof value}`);
}
