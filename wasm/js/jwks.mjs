// Google's keys for dynamic Gemini webhooks: a JWKS reduced to the keys that
// can check RS256, and a cache that fetches it, by the rules of the Rust
// crate `webhook-signature-gemini` (gemini/src/jwks.rs, fetch.rs).
import { decodeBase64url } from './base64url.mjs';
import { WebhookVerificationError } from './core.mjs';

/** Google's JWKS for dynamic webhooks. */
export const GOOGLE_JWKS_URL = 'https://generativelanguage.googleapis.com/.well-known/jwks.json';
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;
const MIN_CACHE = 5 * 60;
const MAX_CACHE = 24 * 60 * 60;
const STALE_LIMIT = 24 * 60 * 60;
const MIN_REFRESH = 30;
const FETCH_TIMEOUT_MS = 5000;
const MAX_DOCUMENT = 1024 * 1024;
const U64_MAX = 0xffffffffffffffffn;
export const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

/** A skipped key's reason, as the crate's `SkipReason` says it. */
class Skip {
  constructor(code, reason) {
    this.code = code;
    this.reason = reason;
  }
}

/**
 * A JWKS reduced to the RSA keys that can check RS256, imported into WebCrypto. Kept: `kty` RSA, `use` sig or
 * absent, `alg` RS256 or absent, a `kid`, a minimally encoded modulus of 2048 to 8192 bits and an odd exponent from
 * 3 to 2^33 − 1. Every other key is in `skipped` with its reason; two usable keys with one `kid` are both refused.
 */
export class Jwks {
  #keys = new Map();
  /** Keys skipped, with why: `{ kid, code, reason }` (`code` names the crate's `SkipReason` variant). */
  skipped = [];

  /** Parses a JWKS document (an object, or its JSON text). */
  static async from(document) {
    const jwks = new Jwks();
    const parsed = typeof document === 'string' ? JSON.parse(document) : document;
    if (parsed === null || typeof parsed !== 'object' || !Array.isArray(parsed.keys)) throw new TypeError('invalid JWKS: no keys array');
    const kept = [];
    for (const jwk of parsed.keys) {
      const kid = typeof jwk?.kid === 'string' ? jwk.kid : undefined;
      const outcome = await keep(jwk);
      if (outcome instanceof Skip) jwks.skipped.push({ kid, code: outcome.code, reason: outcome.reason });
      else kept.push([kid, outcome]);
    }
    // A `kid` must name one key: with two, which one a token meant is a guess.
    const copies = new Map();
    for (const [kid] of kept) copies.set(kid, (copies.get(kid) ?? 0) + 1);
    for (const [kid, key] of kept) if (copies.get(kid) === 1) jwks.#keys.set(kid, key);
    for (const [kid] of kept) {
      if (copies.get(kid) > 1) jwks.skipped.push({ kid, code: 'DuplicateKeyId', reason: 'duplicate kid' });
    }
    return jwks;
  }

  /** The key with this `kid`, if the set kept it. */
  key(kid) {
    return this.#keys.get(kid);
  }

  /** The kept keys' ids, in document order. */
  kids() {
    return [...this.#keys.keys()];
  }
}

/** The WebCrypto key for `jwk`, or why it cannot check RS256 (gemini/src/jwks.rs `keep`, in its order). */
async function keep(jwk) {
  const members = ['kty', 'use', 'alg', 'kid', 'n', 'e'];
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)
    || members.some((name) => jwk[name] != null && typeof jwk[name] !== 'string')) {
    return new Skip('NotAnObject', 'not a JSON object of string members');
  }
  // A null member is an absent one, as the crate reads an `Option<String>`.
  const [kty, use, alg, kid, n64, e64] = members.map((name) => jwk[name] ?? undefined);
  if (kty !== 'RSA') return new Skip('KeyType', `kty ${JSON.stringify(kty ?? '')} is not RSA`);
  if (use !== undefined && use !== 'sig') return new Skip('Use', `use ${JSON.stringify(use)} is not sig`);
  if (alg !== undefined && alg !== 'RS256') return new Skip('Algorithm', `alg ${JSON.stringify(alg)} is not RS256`);
  if (kid === undefined) return new Skip('MissingKeyId', 'no kid');
  const n = decodeBase64url(n64);
  const e = decodeBase64url(e64);
  if (!n || !e) return new Skip('InvalidComponents', 'n or e missing or not base64url');
  const bits = significantBits(n);
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    return new Skip('Size', `${bits}-bit modulus, outside ${MIN_RSA_BITS} to ${MAX_RSA_BITS}`);
  }
  // RFC 7518, section 6.3.1: "the minimum number of octets".
  if (n[0] === 0 || e[0] === 0) return new Skip('NonMinimalEncoding', 'n or e has leading zero bytes');
  // An odd e from 3 to 2^33 - 1: what aws-lc (as BoringSSL) verifies with.
  const exponent = e.length === 0 || e.length > 5 ? 0 : e.reduce((value, byte) => value * 256 + byte, 0);
  if (exponent < 3 || exponent % 2 === 0 || exponent >= 2 ** 33) return new Skip('Exponent', 'e is even, below 3 or above 2^33 - 1');
  try {
    return await crypto.subtle.importKey('jwk', { kty: 'RSA', n: n64, e: e64, alg: 'RS256', ext: true }, RSA, false, ['verify']);
  } catch {
    return new Skip('Rejected', 'not a valid RSA public key');
  }
}

/** The bit length of a big-endian unsigned integer, leading zeros ignored. */
function significantBits(bytes) {
  let first = 0;
  while (first < bytes.length && bytes[first] === 0) first++;
  return first === bytes.length ? 0 : (bytes.length - first - 1) * 8 + (32 - Math.clz32(bytes[first]));
}

/** Whether `url` may serve keys: https, or http on a loopback address (for tests), as gemini/src/fetch.rs says. */
function allowedJwksUrl(url) {
  const parsed = new URL(url);
  if (parsed.protocol === 'https:') return true;
  const loopback = /^127\.[0-9]+\.[0-9]+\.[0-9]+$/.test(parsed.hostname) || parsed.hostname === '[::1]' || parsed.hostname === 'localhost';
  return parsed.protocol === 'http:' && loopback;
}

/** The first well-formed `max-age` directive of a Cache-Control value, in seconds (gemini/src/fetch.rs `max_age`). */
export function maxAge(cacheControl) {
  for (const directive of (cacheControl ?? '').split(',')) {
    const trimmed = directive.trim();
    const equals = trimmed.indexOf('=');
    if (equals < 0 || trimmed.slice(0, equals).toLowerCase() !== 'max-age') continue;
    // Rust's u64 parse: an optional `+`, digits, at most u64::MAX.
    const value = trimmed.slice(equals + 1).trim().replace(/^"+|"+$/g, '');
    if (/^\+?[0-9]+$/.test(value) && BigInt(value) <= U64_MAX) return Number(value);
  }
  return undefined;
}

/** Seconds on a monotonic clock: a wall clock stepped back neither blocks refreshes nor keeps old keys. */
const monotonic = () => performance.now() / 1000;

/**
 * Google's keys, fetched and cached, by the Rust crate's rules (gemini/src/fetch.rs): the lifetime is the
 * response's `max-age` clamped to 5 minutes..24 hours; a known `kid` is answered from the cache at once, and past
 * the lifetime a refresh starts in the background (the old keys serve for up to 24 hours after their fetch); an
 * unknown `kid` refreshes at most once per 30 s, failed fetches included; one fetch at a time, shared, and no
 * longer counted as in flight past its deadline (`fetchTimeout`, 5 s); 1 MiB at most, no redirects; a document with
 * no usable key is a failed fetch. Lifetimes and rate limits run on `clock` (seconds, monotonic by default).
 */
export class JwksCache {
  #url;
  #fetch;
  #clock;
  #timeout;
  #minRefresh;
  #jwks = null;
  #fetchedAt = -Infinity;
  #freshUntil = -Infinity;
  #attempted = -Infinity;
  #pending = null;

  constructor(url = GOOGLE_JWKS_URL, {
    fetch: fetcher = globalThis.fetch, clock = monotonic, fetchTimeout = FETCH_TIMEOUT_MS, minRefreshInterval = MIN_REFRESH,
  } = {}) {
    if (!allowedJwksUrl(url)) throw new TypeError(`JWKS URL must be https (or http on loopback): ${url}`);
    this.#url = url;
    this.#fetch = fetcher;
    this.#clock = clock;
    this.#timeout = fetchTimeout;
    this.#minRefresh = minRefreshInterval;
  }

  /** The keys to check `kid` with; rejects with `KeysUnavailable` when there are none, `UnknownKeyId` without `kid`. */
  async keys(kid) {
    const now = this.#clock();
    const usable = () => (this.#jwks !== null && now < this.#fetchedAt + STALE_LIMIT ? this.#jwks : null);
    const answer = (jwks) => {
      if (!jwks) throw new WebhookVerificationError('gemini webhook rejected: keys unavailable', 'KeysUnavailable');
      if (jwks.key(kid) === undefined) throw new WebhookVerificationError('gemini webhook rejected: unknown kid', 'UnknownKeyId');
      return jwks;
    };
    const jwks = usable();
    const known = jwks?.key(kid) !== undefined;
    if (known && now < this.#freshUntil) return jwks;
    if (this.#pending) {
      // A known kid is served while the refresh runs; any other waits for the fetch, which may bring its key.
      if (known) return jwks;
      await this.#pending;
      return answer(usable());
    }
    if (now < this.#attempted + this.#minRefresh) return answer(jwks);
    const refresh = this.#refresh(now);
    if (known) return jwks; // stale but known: the refresh runs in the background
    await refresh;
    return answer(usable());
  }

  /** Starts a fetch that settles (never rejects) by its deadline; only its own outcome is stored. */
  #refresh(now) {
    this.#attempted = now;
    let timer;
    const deadline = new Promise((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.#timeout);
    });
    const load = this.#load().catch(() => undefined);
    this.#pending = Promise.race([load, deadline]).then((fetched) => {
      clearTimeout(timer);
      this.#pending = null;
      if (!fetched) return;
      this.#jwks = fetched.jwks;
      this.#fetchedAt = now;
      this.#freshUntil = now + fetched.lifetime;
    });
    return this.#pending;
  }

  async #load() {
    const response = await this.#fetch(this.#url, { signal: AbortSignal.timeout(this.#timeout), redirect: 'manual' });
    if (response.status < 200 || response.status > 299) throw new Error(`JWKS ${response.status}`); // a redirect too: not followed
    const declared = Number(response.headers.get('content-length'));
    if (declared > MAX_DOCUMENT) throw new Error('JWKS too large');
    const body = await response.arrayBuffer();
    if (body.byteLength > MAX_DOCUMENT) throw new Error('JWKS too large');
    const jwks = await Jwks.from(new TextDecoder().decode(body));
    if (jwks.kids().length === 0) throw new Error('JWKS without a usable key');
    const lifetime = Math.min(MAX_CACHE, Math.max(MIN_CACHE, maxAge(response.headers.get('cache-control')) ?? MIN_CACHE));
    return { jwks, lifetime };
  }
}
