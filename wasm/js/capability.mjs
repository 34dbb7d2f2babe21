// Per-job capabilities (gemini/src/capability.rs `JobCapabilities`): a nonce
// and its HMAC-SHA256 under a secret only your service holds, put in a
// dynamic job's webhook URI when the job is created and checked on receipt,
// since anyone with a Gemini API key can point a job at your URL. The format,
// "<nonce>.<unpadded base64url tag>", is the crate's: a capability issued by
// one checks in the other.
import { decodeBase64url, encodeBase64url } from './base64url.mjs';

/** Prefixes the MAC input, so the key signs nothing else by accident. */
const DOMAIN = 'webhook-signature-gemini job capability v1\0';
const NONCE_BYTES = 16;
const TAG_CHARS = 43;
const utf8 = new TextEncoder();
const HMAC = { name: 'HMAC', hash: 'SHA-256' };

/** Why a capability was refused, or a secret or nonce cannot be used; `code` names the crate's `CapabilityError`. */
export class CapabilityError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'CapabilityError';
    this.code = code;
  }
}

/** 1 to 64 characters of the base64url alphabet. */
const isNonce = (nonce) => typeof nonce === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(nonce);
const input = (nonce) => utf8.encode(DOMAIN + nonce);

/** Issues and checks per-job capabilities under one local secret (at least 32 bytes). */
export class JobCapabilities {
  /** The shortest secret accepted, in bytes. */
  static MIN_SECRET_LEN = 32;
  /** The longest nonce accepted, in characters. */
  static MAX_NONCE_LEN = 64;
  #key;

  /** `secret`: bytes (or text, taken as UTF-8) that only your service holds; throws CapabilityError ShortSecret. */
  constructor(secret) {
    const bytes = typeof secret === 'string' ? utf8.encode(secret)
      : ArrayBuffer.isView(secret) ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
        : secret instanceof ArrayBuffer ? new Uint8Array(secret) : undefined;
    if (!bytes) throw new TypeError('the capability secret must be bytes or a string');
    if (bytes.length < JobCapabilities.MIN_SECRET_LEN) throw new CapabilityError('ShortSecret', 'capability secret shorter than 32 bytes');
    this.#key = crypto.subtle.importKey('raw', bytes.slice(), HMAC, false, ['sign', 'verify']);
  }

  /** A capability for a new job, with a random 128-bit nonce: "<nonce>.<tag>". */
  issue() {
    return this.issueFor(encodeBase64url(crypto.getRandomValues(new Uint8Array(NONCE_BYTES))));
  }

  /** A capability whose nonce is `nonce` (e.g. your record's id for the job); rejects with InvalidNonce. */
  async issueFor(nonce) {
    if (!isNonce(nonce)) throw new CapabilityError('InvalidNonce', 'capability nonce must be 1 to 64 characters of A-Z a-z 0-9 - _');
    const tag = new Uint8Array(await crypto.subtle.sign('HMAC', await this.#key, input(nonce)));
    return `${nonce}.${encodeBase64url(tag)}`;
  }

  /**
   * Checks a capability taken from the delivery's URI and resolves to its nonce; rejects with Malformed or Mismatch.
   * The tag is compared by WebCrypto's HMAC verify; the nonce, the lengths and the shape are public.
   */
  async check(capability) {
    const dot = typeof capability === 'string' ? capability.indexOf('.') : -1;
    const [nonce, tag] = dot < 0 ? [] : [capability.slice(0, dot), capability.slice(dot + 1)];
    const decoded = tag?.length === TAG_CHARS ? decodeBase64url(tag) : undefined;
    if (!isNonce(nonce) || !decoded) throw new CapabilityError('Malformed', 'malformed job capability');
    if (!(await crypto.subtle.verify('HMAC', await this.#key, decoded, input(nonce)))) {
      throw new CapabilityError('Mismatch', 'job capability not issued by this service');
    }
    return nonce;
  }
}
