// Gemini API webhooks: static ones (`v1,` HMAC, a `whsec_` secret) through
// the Webhook, and dynamic ones (an RS256 JWT in `webhook-signature`)
// checked with WebCrypto against Google's JWKS, by the rules of the Rust
// crate `webhook-signature-gemini` (gemini/src/dynamic.rs, token.rs,
// binding.rs, replay.rs), tested against the same fixtures and cases.
import { decodeBase64url } from './base64url.mjs';
import { bodyBinding, bodyClaims, equal, tag } from './binding.mjs';
import { bodyBytes, fail, headerValues, Webhook, WebhookVerificationError } from './core.mjs';
import { parseJson } from './json.mjs';
import { GOOGLE_JWKS_URL, Jwks, JwksCache, RSA } from './jwks.mjs';
import { fromSignature, fromSignatureAndBody, fromTokenId } from './replay.mjs';

const MAX_TOKEN_LEN = 8 * 1024;
/** The default maximum age of a token by its `iat`: 24 hours, as long as Gemini retries a delivery. */
const DEFAULT_MAX_AGE = 24 * 60 * 60;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const text = new TextDecoder('utf-8', { ignoreBOM: true });

function reject(code, message = code, extra = {}) {
  throw Object.assign(new WebhookVerificationError(`gemini webhook rejected: ${message}`, code), extra);
}

/** Whether a `webhook-signature` value has the shape of a compact JWS (gemini/src/token.rs `is_compact_jws`). */
export function isCompactJws(value) {
  return typeof value === 'string' && /^[A-Za-z0-9_-][A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(value);
}

/**
 * One segment as a JSON object, with the names it repeats (gemini/src/token.rs `decode_json`): MalformedToken
 * (Base64) if it is not base64url, MalformedToken(part) if it is not a JSON object: an array is never read by position.
 */
function segmentJson(segment, part, options = {}) {
  const bytes = decodeBase64url(segment);
  if (!bytes) reject('MalformedToken', 'malformed token (base64)', { part: 'Base64' });
  try {
    const parsed = parseJson(strictUtf8.decode(bytes), options);
    const { value } = parsed;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return parsed;
  } catch {
    // not JSON, or not UTF-8: refused below
  }
  return reject('MalformedToken', `malformed token (${part.toLowerCase()})`, { part });
}

/** A NumericDate claim (RFC 7519, section 2): whole seconds, fractions truncated, before 1970 as 0. */
function numericDate(claims, name) {
  // A null claim is an absent one, as serde reads an `Option`.
  if (claims[name] == null) return undefined;
  const value = claims[name];
  if (typeof value !== 'number') reject('InvalidClaim', `invalid claim ${name}`, { claim: name });
  return Math.max(0, Math.trunc(value));
}

/** Digits only, at most u64::MAX, as the core reads `webhook-timestamp`. */
function parseTimestamp(value) {
  if (!/^[0-9]+$/.test(value) || BigInt(value) > 0xffffffffffffffffn) fail(9);
  return Number(value);
}

const seconds = (value, name) => {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) throw new TypeError(`${name} must be a number of seconds`);
  return value;
};
const list = (value, name) => {
  const items = value === undefined ? [] : [value].flat();
  if (items.some((item) => typeof item !== 'string')) throw new TypeError(`${name} must be a string or strings`);
  return items;
};

/**
 * Receives Gemini webhooks of both kinds.
 *
 * `secrets`: the static webhooks' `whsec_` secrets (current first); `audience`: the URL (or URLs) dynamic tokens
 * must name in `aud`, and `audiencePrefix` a base whose per-job URIs (`base/…`, `base?…`) are accepted too; `jwks`
 * (a JWKS object), `jwksUrl` (fetched and cached, default Google's) or `jwksCache` (a JwksCache to share). Options as
 * the Rust crate's DynamicVerifier: `issuer`, `leeway` (60 s), `maxAge` (24 h by default, for a token with `iat`; a
 * number requires `iat`; `null` lifts it), `allowMissingExp` (with `maxAge`), `requireClaims` (name → value, JSON
 * equality), `claimsCheck` (a predicate on the verified claims), `requireBoundBody`, `requireBodyBoundBy` (claim
 * names), `tolerance` (300 s).
 */
export class GeminiReceiver {
  #webhook;
  #audiences;
  #prefixes;
  #issuers;
  #leeway;
  #maxAge;
  #requireIat;
  #requireExp;
  #requirements;
  #claimsCheck;
  #bodyClaims;
  #requireBoundBody;
  #tolerance;
  #jwks;
  #cache;

  constructor({
    secrets = [], audience, audiencePrefix, jwks, jwksUrl, jwksCache, issuer, leeway = 60, maxAge, allowMissingExp = false,
    requireClaims = {}, claimsCheck, requireBoundBody = false, requireBodyBoundBy, tolerance = 300,
  } = {}) {
    const keys = Array.isArray(secrets) ? secrets : [secrets];
    this.#webhook = keys.length ? new Webhook(keys, { tolerance }) : undefined;
    const dynamic = audience !== undefined || audiencePrefix !== undefined;
    this.#audiences = dynamic ? list(audience, 'audience') : undefined;
    this.#prefixes = list(audiencePrefix, 'audiencePrefix');
    this.#issuers = list(issuer, 'issuer');
    this.#leeway = seconds(leeway, 'leeway');
    // Without an explicit maximum, an `iat` older than a day is refused and a token without `iat` is not.
    this.#maxAge = maxAge === null ? undefined : seconds(maxAge ?? DEFAULT_MAX_AGE, 'maxAge');
    this.#requireIat = maxAge != null;
    // A token without `exp` is only safe with a maximum age on `iat`, so that is required.
    if (allowMissingExp && maxAge == null) throw new TypeError('allowMissingExp needs maxAge');
    this.#requireExp = !allowMissingExp;
    if (requireClaims === null || typeof requireClaims !== 'object') throw new TypeError('requireClaims must be an object of claim values');
    this.#requirements = Object.entries(requireClaims).map(([name, value]) => [name, tag(value)]);
    if (claimsCheck !== undefined && typeof claimsCheck !== 'function') throw new TypeError('claimsCheck must be a function');
    this.#claimsCheck = claimsCheck;
    this.#bodyClaims = bodyClaims(requireBodyBoundBy === undefined ? undefined : list(requireBodyBoundBy, 'requireBodyBoundBy'));
    this.#requireBoundBody = requireBoundBody || requireBodyBoundBy !== undefined;
    this.#tolerance = seconds(tolerance, 'tolerance');
    if ([jwks, jwksUrl, jwksCache].filter((one) => one !== undefined).length > 1) throw new TypeError('give one of jwks, jwksUrl and jwksCache');
    this.#jwks = jwks === undefined ? undefined : Jwks.from(jwks);
    this.#jwks?.catch(() => {});
    if (dynamic && jwks === undefined) this.#cache = jwksCache ?? new JwksCache(jwksUrl ?? GOOGLE_JWKS_URL);
  }

  /**
   * Verifies a delivery: `body` the exact bytes (or text) received, `now` Unix seconds (default: the clock).
   * Resolves to `{ mode, id, timestamp, authenticated, kid?, key?, claims?, boundBy?, replayKey?, replaySource?,
   * event }`; rejects with a WebhookVerificationError whose `code` names the failure.
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
    // The same header rules as the static path; the token signs neither header: the replay key recognises a resent one.
    if (!id) fail(3);
    if (!timestamp) fail(4);
    const sent = parseTimestamp(timestamp);
    if (Math.abs(now - sent) > this.#tolerance) fail(sent < now ? 10 : 11);
    if (signature.length > MAX_TOKEN_LEN) reject('TokenTooLong', 'token too long');
    const [headerPart, claimsPart, signaturePart] = signature.split('.');
    const jose = segmentJson(headerPart, 'Header');
    if (['alg', 'kid', 'crit'].some((name) => jose.duplicates.has(name))) reject('MalformedToken', 'malformed token (header)', { part: 'Header' });
    if (jose.value.alg !== 'RS256') reject('UnsupportedAlgorithm', 'unsupported algorithm');
    // RFC 7515, section 4.1.11: `crit` MUST NOT be null or empty, and none of its extensions is implemented here.
    if (Object.hasOwn(jose.value, 'crit')) reject('CriticalHeader', 'critical header');
    if (jose.value.kid == null) reject('MissingKeyId', 'no kid');
    const kid = jose.value.kid;
    if (typeof kid !== 'string') reject('MalformedToken', 'malformed token (header)', { part: 'Header' });
    const registered = segmentJson(claimsPart, 'Claims');
    if (['exp', 'nbf', 'iat', 'aud', 'iss', 'jti'].some((name) => registered.duplicates.has(name))) {
      reject('MalformedToken', 'malformed token (claims)', { part: 'Claims' });
    }
    const claims = registered.value;
    this.#checkClaims(claims, now);
    const jwks = this.#jwks ? await this.#jwks : await this.#cache.keys(kid);
    const key = jwks.key(kid);
    if (!key) reject('UnknownKeyId', 'unknown kid');
    const mac = decodeBase64url(signaturePart);
    const valid = mac !== undefined && await crypto.subtle.verify(RSA, key, mac, utf8.encode(`${headerPart}.${claimsPart}`));
    if (!valid) reject('BadSignature', 'bad signature');
    // Only now are the claims trusted.
    const tagged = segmentJson(claimsPart, 'Claims', { tagged: true }).value;
    const required = this.#requirements.every(([name, value]) => Object.hasOwn(tagged, name) && equal(tagged[name], value));
    if (!required || (this.#claimsCheck && !this.#claimsCheck(claims))) reject('ClaimNotAccepted', 'claims do not meet a requirement');
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', raw));
    const bound = bodyBinding(tagged, raw, digest, this.#bodyClaims, reject);
    if (this.#requireBoundBody && !bound) reject('BodyNotBound', 'the token does not bind the body');
    const [replaySource, replayKey] = typeof claims.jti === 'string'
      ? ['TokenId', await fromTokenId(typeof claims.iss === 'string' ? claims.iss : '', claims.jti)]
      : bound ? ['Signature', await fromSignature(mac)] : ['SignatureAndBody', await fromSignatureAndBody(mac, digest)];
    return {
      mode: 'dynamic', id, timestamp: sent, authenticated: bound ? 'signature' : 'bearer-token', kid, claims,
      ...(bound ? { boundBy: bound } : {}), replayKey, replaySource, event: envelope(raw),
    };
  }

  /** gemini/src/dynamic.rs `check_claims`, in its order. */
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
      if (iat === undefined && this.#requireIat) reject('MissingClaim', 'missing claim iat', { claim: 'iat' });
      if (iat !== undefined && now > iat + this.#maxAge + leeway) reject('TokenTooOld', 'token too old');
    }
    // RFC 7519, section 4.1.7: a case-sensitive string. An empty one would make every such token one replay key.
    if (claims.jti != null && (typeof claims.jti !== 'string' || claims.jti === '')) reject('InvalidClaim', 'invalid claim jti', { claim: 'jti' });
    if (claims.aud == null) reject('MissingClaim', 'missing claim aud', { claim: 'aud' });
    const aud = claims.aud;
    const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
    if (!auds || auds.some((one) => typeof one !== 'string')) reject('InvalidClaim', 'invalid claim aud', { claim: 'aud' });
    // A per-job URI under a prefix: the next character must be `/` or `?`, so `https://you.example` does not
    // accept `https://you.example.evil.com`.
    const under = (one, base) => one.startsWith(base) && (one.length === base.length || '/?'.includes(one[base.length]));
    const accepted = (one) => this.#audiences.includes(one) || this.#prefixes.some((base) => under(one, base));
    if (!auds.some(accepted)) reject('WrongAudience', 'wrong audience');
    if (claims.iss == null) {
      if (this.#issuers.length) reject('MissingClaim', 'missing claim iss', { claim: 'iss' });
    } else if (typeof claims.iss !== 'string') {
      // The replay key reads `iss` as a string.
      reject('InvalidClaim', 'invalid claim iss', { claim: 'iss' });
    } else if (this.#issuers.length && !this.#issuers.includes(claims.iss)) {
      reject('WrongIssuer', 'wrong issuer');
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
