// Gemini API webhooks: static ones (`v1,` HMAC, a `whsec_` secret) through
// the Webhook, and dynamic ones (an RS256 JWT in `webhook-signature`)
// checked with WebCrypto against Google's JWKS, by the rules of the Rust
// crate `webhook-signature-gemini` (gemini/src/dynamic.rs, jwks.rs,
// binding.rs, fetch.rs), tested against the same fixtures and cases.
import { bodyBytes, fail, headerValues, Webhook, WebhookVerificationError } from './core.mjs';
import { parseJson } from './json.mjs';

/** Google's JWKS for dynamic webhooks. */
export const GOOGLE_JWKS_URL = 'https://generativelanguage.googleapis.com/.well-known/jwks.json';
const MAX_TOKEN_LEN = 8 * 1024;
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;
const MIN_CACHE = 5 * 60;
const MAX_CACHE = 24 * 60 * 60;
const STALE_LIMIT = 24 * 60 * 60;
const MIN_REFRESH = 30;
const FETCH_TIMEOUT_MS = 5000;
const MAX_DOCUMENT = 1024 * 1024;
/** Claim names that say "this is a digest of the body" (gemini/src/binding.rs), compared normalised. */
const BODY_DIGEST_CLAIMS = ['body_sha256', 'body_hash', 'body_digest', 'body_sha_256', 'payload_sha256', 'payload_hash',
  'payload_digest', 'request_body_sha256', 'webhook_body_sha256', 'body.sha256', 'body.hash', 'body.digest',
  'payload.sha256', 'payload.hash', 'payload.digest', 'webhook.sha256', 'webhook.body_sha256'];
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const utf8 = new TextEncoder();
const text = new TextDecoder('utf-8', { ignoreBOM: true });

function reject(code, message = code, extra = {}) {
  throw Object.assign(new WebhookVerificationError(`gemini webhook rejected: ${message}`, code), extra);
}

const normalize = (name) => name.replace(/[_.-]/g, '').toLowerCase();
const DIGEST_NAMES = new Set(BODY_DIGEST_CLAIMS.map(normalize));

/** Strict unpadded base64url, as the crate decodes it; undefined if it is not. */
function base64url(segment) {
  if (!/^[A-Za-z0-9_-]*$/.test(segment) || segment.length % 4 === 1) return undefined;
  const padded = segment.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (segment.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  // Unused trailing bits must be zero (base64ct is strict about them).
  const again = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return again === segment ? bytes : undefined;
}

/** Whether a `webhook-signature` value has the shape of a compact JWS (gemini/src/token.rs `is_compact_jws`). */
export function isCompactJws(value) {
  return typeof value === 'string' && /^[A-Za-z0-9_-][A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(value);
}

/** One segment as a JSON object, with the names it repeats; MalformedToken otherwise. */
function segmentJson(segment, part) {
  const bytes = base64url(segment);
  if (!bytes) reject('MalformedToken', 'malformed token (base64)', { part: 'Base64' });
  let parsed;
  try {
    parsed = parseJson(text.decode(bytes));
  } catch {
    reject('MalformedToken', `malformed token (${part.toLowerCase()})`, { part });
  }
  const { value } = parsed;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    reject('MalformedToken', `malformed token (${part.toLowerCase()})`, { part });
  }
  return parsed;
}

/** A NumericDate claim (RFC 7519, section 2): whole seconds, fractions truncated, before 1970 as 0. */
function numericDate(claims, name) {
  // A null claim is an absent one, as serde reads an `Option`.
  if (claims[name] == null) return undefined;
  const value = claims[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) reject('InvalidClaim', `invalid claim ${name}`, { claim: name });
  return Math.max(0, Math.trunc(value));
}

/** Digits only, at most u64::MAX, as the core reads `webhook-timestamp`. */
function parseTimestamp(value) {
  if (!/^[0-9]+$/.test(value) || BigInt(value) > 0xffffffffffffffffn) fail(9);
  return Number(value);
}

/** A JWKS reduced to the RSA keys that can check RS256 (gemini/src/jwks.rs), imported into WebCrypto. */
export class Jwks {
  #keys = new Map();
  /** Keys skipped, with why: `{ kid, reason }`. */
  skipped = [];

  /** Parses a JWKS document (an object, or its JSON text). */
  static async from(document) {
    const jwks = new Jwks();
    const parsed = typeof document === 'string' ? JSON.parse(document) : document;
    if (!Array.isArray(parsed?.keys)) throw new TypeError('invalid JWKS: no keys array');
    for (const jwk of parsed.keys) {
      const kid = typeof jwk?.kid === 'string' ? jwk.kid : undefined;
      const reason = jwks.#skip(jwk);
      if (reason) {
        jwks.skipped.push({ kid, reason });
        continue;
      }
      jwks.#keys.set(kid, await crypto.subtle.importKey('jwk', { kty: 'RSA', n: jwk.n, e: jwk.e, alg: 'RS256', ext: true },
        RSA, false, ['verify']));
    }
    return jwks;
  }

  #skip(jwk) {
    if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)
      || ['kty', 'use', 'alg', 'kid', 'n', 'e'].some((name) => name in jwk && typeof jwk[name] !== 'string')) {
      return 'not a JSON object of string members';
    }
    if (jwk.kty !== 'RSA') return `kty ${JSON.stringify(jwk.kty ?? '')} is not RSA`;
    if (jwk.use !== undefined && jwk.use !== 'sig') return `use ${JSON.stringify(jwk.use)} is not sig`;
    if (jwk.alg !== undefined && jwk.alg !== 'RS256') return `alg ${JSON.stringify(jwk.alg)} is not RS256`;
    if (jwk.kid === undefined) return 'no kid';
    const n = jwk.n === undefined ? undefined : base64url(jwk.n);
    const e = jwk.e === undefined ? undefined : base64url(jwk.e);
    if (!n || !e) return 'n or e missing or not base64url';
    let first = 0;
    while (first < n.length && n[first] === 0) first++;
    const bits = first === n.length ? 0 : (n.length - first - 1) * 8 + (32 - Math.clz32(n[first]));
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) return `${bits}-bit modulus, outside ${MIN_RSA_BITS} to ${MAX_RSA_BITS}`;
    if (e.length === 0 || e.length > 8) return 'n or e missing or not base64url';
    if (this.#keys.has(jwk.kid)) return 'duplicate kid';
    return undefined;
  }

  /** The key with this `kid`, if the set has it. */
  key(kid) {
    return this.#keys.get(kid);
  }

  /** The usable keys' ids. */
  kids() {
    return [...this.#keys.keys()];
  }
}

/** Whether `url` may serve keys: https, or http on a loopback address (for tests), as gemini/src/fetch.rs says. */
function allowedJwksUrl(url) {
  const parsed = new URL(url);
  if (parsed.protocol === 'https:') return true;
  const loopback = /^127\.[0-9]+\.[0-9]+\.[0-9]+$/.test(parsed.hostname) || parsed.hostname === '[::1]' || parsed.hostname === 'localhost';
  return parsed.protocol === 'http:' && loopback;
}

/** The first well-formed `max-age` directive of a Cache-Control value, in seconds (gemini/src/fetch.rs `max_age`). */
function maxAge(cacheControl) {
  for (const directive of (cacheControl ?? '').split(',')) {
    const equals = directive.indexOf('=');
    if (equals < 0 || directive.slice(0, equals).trim().toLowerCase() !== 'max-age') continue;
    const value = directive.slice(equals + 1).trim().replace(/^"+|"+$/g, '');
    if (/^\+?[0-9]+$/.test(value)) return Number(value);
  }
  return undefined;
}

/**
 * Google's keys, fetched and cached, by the Rust crate's rules (gemini/src/fetch.rs): the lifetime is the
 * response's `max-age` clamped to 5 minutes..24 hours; a known `kid` is answered from the cache at once, and past
 * the lifetime a refresh starts in the background (the old keys serve for up to 24 hours after their fetch); an
 * unknown `kid` refreshes at most once per 30 s, failed fetches included; one fetch at a time, shared; 5 s
 * timeout, 1 MiB at most, no redirects; a document with no usable key is a failed fetch.
 */
export class JwksCache {
  #url;
  #fetch;
  #jwks = null;
  #fetchedAt = -Infinity;
  #freshUntil = -Infinity;
  #attempted = -Infinity;
  #pending = null;

  constructor(url = GOOGLE_JWKS_URL, { fetch: fetcher = globalThis.fetch } = {}) {
    if (!allowedJwksUrl(url)) throw new TypeError(`JWKS URL must be https (or http on loopback): ${url}`);
    this.#url = url;
    this.#fetch = fetcher;
  }

  /** The keys to check `kid` with, at `now` (Unix seconds); the caller finds `kid` in them or not. */
  async keys(kid, now) {
    const usable = () => (this.#jwks !== null && now < this.#fetchedAt + STALE_LIMIT ? this.#jwks : null);
    const answer = (jwks) => jwks ?? reject('KeysUnavailable', 'keys unavailable');
    const jwks = usable();
    const known = jwks?.key(kid) !== undefined;
    if (known && now < this.#freshUntil) return jwks;
    if (this.#pending) {
      // A known kid is served while the refresh runs; any other waits for the fetch, which may bring its key.
      if (known) return jwks;
      await this.#pending.catch(() => {});
      return answer(usable());
    }
    if (now < this.#attempted + MIN_REFRESH) return answer(jwks);
    const refresh = this.#refresh(now);
    refresh.catch(() => {});
    if (known) return jwks; // stale but known: the refresh runs in the background
    await refresh.catch(() => {});
    return answer(usable());
  }

  #refresh(now) {
    if (!this.#pending) {
      this.#attempted = now;
      this.#pending = this.#load(now).finally(() => {
        this.#pending = null;
      });
    }
    return this.#pending;
  }

  async #load(now) {
    const response = await this.#fetch(this.#url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'manual' });
    if (response.status !== 200) throw new Error(`JWKS ${response.status}`); // a redirect too: not followed
    const declared = Number(response.headers.get('content-length'));
    if (declared > MAX_DOCUMENT) throw new Error('JWKS too large');
    const body = await response.arrayBuffer();
    if (body.byteLength > MAX_DOCUMENT) throw new Error('JWKS too large');
    const jwks = await Jwks.from(text.decode(body));
    if (jwks.kids().length === 0) throw new Error('JWKS without a usable key');
    const age = Math.min(MAX_CACHE, Math.max(MIN_CACHE, maxAge(response.headers.get('cache-control')) ?? MIN_CACHE));
    this.#jwks = jwks;
    this.#fetchedAt = now;
    this.#freshUntil = now + age;
  }
}

/**
 * Receives Gemini webhooks of both kinds.
 *
 * `secrets`: the static webhooks' `whsec_` secrets (current first); `audience`: the URL (or URLs) dynamic tokens
 * must name in `aud`; `jwks` (a JWKS object) or `jwksUrl` (fetched and cached, default Google's). Options as the
 * Rust crate's DynamicVerifier: `issuer`, `leeway` (60 s), `maxAge`, `allowMissingExp` (with `maxAge`),
 * `requireBoundBody`, `tolerance` (300 s).
 */
export class GeminiReceiver {
  #webhook;
  #audiences;
  #issuers;
  #leeway;
  #maxAge;
  #requireBoundBody;
  #requireExp;
  #tolerance;
  #jwks;
  #cache;

  constructor({
    secrets = [], audience, jwks, jwksUrl, issuer, leeway = 60, maxAge, allowMissingExp = false, requireBoundBody = false,
    tolerance = 300,
  } = {}) {
    const list = Array.isArray(secrets) ? secrets : [secrets];
    this.#webhook = list.length ? new Webhook(list, { tolerance }) : undefined;
    this.#audiences = audience === undefined ? undefined : [audience].flat();
    if (this.#audiences?.some((one) => typeof one !== 'string')) throw new TypeError('audience must be a string or strings');
    this.#issuers = issuer === undefined ? [] : [issuer].flat();
    this.#leeway = leeway;
    this.#maxAge = maxAge;
    this.#requireBoundBody = requireBoundBody;
    // A token without `exp` is only safe with a maximum age on `iat`, so that is required.
    if (allowMissingExp && maxAge === undefined) throw new TypeError('allowMissingExp needs maxAge');
    this.#requireExp = !allowMissingExp;
    this.#tolerance = tolerance;
    if (jwks !== undefined && jwksUrl !== undefined) throw new TypeError('give jwks or jwksUrl, not both');
    this.#jwks = jwks === undefined ? undefined : Jwks.from(jwks);
    this.#jwks?.catch(() => {});
    if (this.#audiences && jwks === undefined) this.#cache = new JwksCache(jwksUrl ?? GOOGLE_JWKS_URL);
  }

  /**
   * Verifies a delivery: `body` the exact bytes (or text) received, `now` Unix seconds (default: the clock).
   * Resolves to `{ mode, id, timestamp, authenticated, kid?, key?, claims?, event }`; rejects with a
   * WebhookVerificationError whose `code` names the failure.
   */
  async verify(body, headers, { now = Math.floor(Date.now() / 1000) } = {}) {
    const [id, timestamp, signature] = headerValues(headers);
    const bytes = bodyBytes(body);
    const raw = typeof bytes === 'string' ? utf8.encode(bytes) : bytes;
    if (!isCompactJws(signature)) {
      if (!this.#webhook) fail(13);
      const key = this.#webhook.verify({ headers, body: raw, now });
      return { mode: 'static', id, timestamp: Number(timestamp), authenticated: 'signature', key, event: envelope(raw) };
    }
    if (!this.#audiences) reject('DynamicNotConfigured', 'dynamic webhooks are not configured (no audience)');
    if (!id) fail(3);
    if (!timestamp) fail(4);
    const seconds = parseTimestamp(timestamp);
    if (Math.abs(now - seconds) > this.#tolerance) fail(seconds < now ? 10 : 11);
    if (signature.length > MAX_TOKEN_LEN) reject('TokenTooLong', 'token too long');
    const [headerPart, claimsPart, signaturePart] = signature.split('.');
    const jose = segmentJson(headerPart, 'Header');
    if (['alg', 'kid', 'crit'].some((name) => jose.duplicates.has(name))) reject('MalformedToken', 'malformed token (header)', { part: 'Header' });
    if (jose.value.alg !== 'RS256') reject('UnsupportedAlgorithm', 'unsupported algorithm');
    if (jose.value.crit != null) reject('CriticalHeader', 'critical header');
    if (jose.value.kid == null) reject('MissingKeyId', 'no kid');
    const kid = jose.value.kid;
    if (typeof kid !== 'string') reject('MalformedToken', 'malformed token (header)', { part: 'Header' });
    const parsed = segmentJson(claimsPart, 'Claims');
    if (['exp', 'nbf', 'iat', 'aud', 'iss'].some((name) => parsed.duplicates.has(name))) reject('MalformedToken', 'malformed token (claims)', { part: 'Claims' });
    const claims = parsed.value;
    this.#checkClaims(claims, now);
    const jwks = this.#jwks ? await this.#jwks : await this.#cache.keys(kid, now);
    const key = jwks.key(kid);
    if (!key) reject('UnknownKeyId', 'unknown kid');
    const mac = base64url(signaturePart);
    const valid = mac !== undefined && await crypto.subtle.verify(RSA, key, mac, utf8.encode(`${headerPart}.${claimsPart}`));
    if (!valid) reject('BadSignature', 'bad signature');
    const bound = await binding(claims, raw);
    if (this.#requireBoundBody && !bound) reject('BodyNotBound', 'the token does not bind the body');
    return {
      mode: 'dynamic', id, timestamp: seconds, authenticated: bound ? 'signature' : 'bearer-token', kid, claims,
      ...(bound ? { boundBy: bound } : {}), event: envelope(raw),
    };
  }

  #checkClaims(claims, now) {
    const leeway = this.#leeway;
    const exp = numericDate(claims, 'exp');
    if (exp === undefined && this.#requireExp) reject('MissingClaim', 'missing claim exp', { claim: 'exp' });
    if (exp !== undefined && now > exp + leeway) reject('Expired', 'token expired');
    const nbf = numericDate(claims, 'nbf');
    if (nbf !== undefined && nbf > now + leeway) reject('NotYetValid', 'token not yet valid');
    const iat = numericDate(claims, 'iat');
    if (iat !== undefined && iat > now + leeway) reject('IssuedInFuture', 'token issued in the future');
    if (this.#maxAge !== undefined) {
      if (iat === undefined) reject('MissingClaim', 'missing claim iat', { claim: 'iat' });
      if (now > iat + this.#maxAge + leeway) reject('TokenTooOld', 'token too old');
    }
    if (claims.aud == null) reject('MissingClaim', 'missing claim aud', { claim: 'aud' });
    const aud = claims.aud;
    const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
    if (!list || list.some((one) => typeof one !== 'string')) reject('InvalidClaim', 'invalid claim aud', { claim: 'aud' });
    if (!list.some((one) => this.#audiences.includes(one))) reject('WrongAudience', 'wrong audience');
    if (this.#issuers.length) {
      if (claims.iss == null) reject('MissingClaim', 'missing claim iss', { claim: 'iss' });
      if (typeof claims.iss !== 'string') reject('InvalidClaim', 'invalid claim iss', { claim: 'iss' });
      if (!this.#issuers.includes(claims.iss)) reject('WrongIssuer', 'wrong issuer');
    }
  }
}

/** The body parsed as a JSON event envelope, or undefined if it is not one. */
function envelope(bytes) {
  try {
    const value = JSON.parse(text.decode(bytes));
    return value !== null && typeof value === 'object' && !Array.isArray(value) && typeof value.type === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Which claim binds the body (gemini/src/binding.rs), or undefined; BodyMismatch for a digest claim naming another body. */
async function binding(claims, body) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
  const standard = btoa(String.fromCharCode(...digest));
  const url = standard.replace(/\+/g, '-').replace(/\//g, '_');
  const encodings = new Set([url, url.replace(/=+$/, ''), standard, standard.replace(/=+$/, '')]);
  const hex = [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  let bodyJson = null;
  const binds = (value) => {
    if (typeof value === 'string') return encodings.has(value) || value.toLowerCase() === hex;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      bodyJson ??= { value: parseJson(text.decode(body), { ijson: true })?.value };
      return equal(bodyJson.value, value);
    }
    return false;
  };
  const named = [];
  for (const [name, value] of Object.entries(claims)) {
    named.push([name, value]);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, nested] of Object.entries(value)) named.push([`${name}.${inner}`, nested]);
    }
  }
  if (named.some(([name, value]) => DIGEST_NAMES.has(normalize(name)) && !binds(value))) {
    reject('BodyMismatch', 'the token names another body');
  }
  return named.find(([, value]) => binds(value))?.[0];
}

/** Deep equality of parsed JSON values (member order does not matter). */
function equal(a, b) {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && equal(a[key], b[key]));
}
