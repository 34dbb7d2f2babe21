// Types for webhook-signature-wasm (hand-written; the package is JavaScript over a wasm C ABI).
// The same file serves the ESM (index.d.ts) and CommonJS (index.d.cts) entries.

/** The webhook_signature::Error variant a rejection names, or a failure of this package's own. */
export type ErrorCode =
  | 'InvalidSecret' | 'InvalidId' | 'MissingHeader' | 'InvalidHeader' | 'InvalidTimestamp'
  | 'TimestampTooOld' | 'TimestampTooNew' | 'NoSupportedSignature' | 'NoMatchingSignature'
  | 'CannotSign' | 'BufferTooSmall' | 'TooManyKeys' | 'NotStarted' | 'OutOfMemory' | 'BodyTooLarge' | 'Unknown'
  // GeminiReceiver's dynamic path (the Rust crate's gemini::Error variants).
  | 'DynamicNotConfigured' | 'TokenTooLong' | 'MalformedToken' | 'UnsupportedAlgorithm' | 'CriticalHeader'
  | 'MissingKeyId' | 'UnknownKeyId' | 'KeysUnavailable' | 'MissingClaim' | 'InvalidClaim' | 'Expired' | 'NotYetValid'
  | 'IssuedInFuture' | 'TokenTooOld' | 'WrongAudience' | 'WrongIssuer' | 'BadSignature' | 'BodyMismatch' | 'ClaimNotAccepted'
  | 'BodyNotBound';

/**
 * Thrown for every rejected delivery, with npm `standardwebhooks`' message (`'Missing required headers'`, `'No
 * matching signature found'`, …); constructed as upstream's (`new WebhookVerificationError(message)`). A bad secret
 * is not one: it throws a plain `Error` (`SecretError`), as upstream does.
 */
export class WebhookVerificationError extends Error {
  constructor(message: string, code?: ErrorCode);
  /** What failed (default `'Unknown'`). */
  readonly code: ErrorCode;
  /** The module's status number, when the module reported it. */
  readonly status?: number;
  /** The header at fault, for `MissingHeader` and `InvalidHeader`. */
  readonly header?: 'webhook-id' | 'webhook-timestamp' | 'webhook-signature';
}

/**
 * What `new Webhook(secret)` throws for a secret that cannot be used (empty, not base64, too long, more than 8):
 * a plain `Error`, not a `WebhookVerificationError`, since it is a configuration error and not a rejected delivery.
 */
export interface SecretError extends Error {
  readonly code: 'InvalidSecret' | 'TooManyKeys';
}

/** Thrown by `readBody` for a body over its limit: answer 413. */
export class BodyTooLargeError extends WebhookVerificationError {
  constructor(maxBytes: number);
  readonly code: 'BodyTooLarge';
  readonly maxBytes: number;
}

/** npm `standardwebhooks`' header type. */
export interface WebhookUnbrandedRequiredHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** npm `standardwebhooks` 1.1's options of `verify(payload, headers, options)`. */
export interface VerifyOptions {
  /** `false`: return `undefined` after the check instead of parsing the payload as JSON (default `true`). */
  jsonParse?: boolean;
}

/** npm `standardwebhooks`' options, plus `tolerance`. */
export interface WebhookOptions {
  /** `'raw'`: the secret is the key itself (a Uint8Array, or a string read one byte per character). */
  format?: 'raw';
  /** The accepted clock difference in seconds (default 300). */
  tolerance?: number;
}

/**
 * A Fetch `Headers` (or anything with `get(name)`), or a plain object of header values (Node's
 * `IncomingHttpHeaders`). `svix-id`, `svix-timestamp` and `svix-signature` are read when the
 * `webhook-*` names are absent.
 */
export type HeadersLike =
  | { get(name: string): string | null }
  | WebhookUnbrandedRequiredHeaders
  | Record<string, string | string[] | undefined>;

/** The raw body: a string (hashed as UTF-8) or the exact bytes of any binary view. */
export type Body = string | ArrayBuffer | SharedArrayBuffer | ArrayBufferView;

/** What `readBody` reads: a Fetch `Request`, or a Node `IncomingMessage` (an async iterable of chunks). */
export type RequestLike =
  | { headers: HeadersLike; body: ReadableStream<Uint8Array> | null; arrayBuffer(): Promise<ArrayBuffer> }
  | ({ headers: HeadersLike } & AsyncIterable<Uint8Array | string>);

/**
 * The request's raw body as one `Uint8Array`. A body declared (`Content-Length`) over `maxBytes` (default
 * `MAX_BODY`, 1 MiB) is refused before any of it is read, an undeclared one at the first chunk past it.
 * @throws BodyTooLargeError past `maxBytes`; TypeError for anything but a request.
 */
export function readBody(request: RequestLike, options?: { maxBytes?: number }): Promise<Uint8Array>;

/** `readBody`'s default limit: 1 MiB. */
export const MAX_BODY: number;
/** The most secrets one `Webhook` holds: 8. */
export const MAX_SECRETS: number;

/**
 * Not needed: the module is instantiated on first use. With a source, `Webhook`s made afterwards use that
 * module; later calls with the same source or bytes reuse it, and concurrent calls share one instance.
 */
export function init(source?: WebAssembly.Module | BufferSource | Response | Promise<Response | BufferSource | WebAssembly.Module>): Promise<void>;
/** As `init(source)`, synchronously. */
export function initSync(source?: WebAssembly.Module | BufferSource): void;

/** A secret, as npm `standardwebhooks` takes it. */
export type Secret = string | Uint8Array;

/** Secrets checked once; synchronous `verify` and `sign`. Any number may exist: nothing is reserved. */
export class Webhook {
  /**
   * @param secret `whsec_…` or bare base64 (or `whpk_`/`whsk_` in the Ed25519 build); raw key bytes with
   *   `{ format: 'raw' }`; or up to eight of them during a rotation.
   * @throws Error (`SecretError`, code `InvalidSecret` or `TooManyKeys`) for a secret that cannot be used, as
   *   npm `standardwebhooks` throws; TypeError for a secret of the wrong type.
   */
  constructor(secret: Secret | readonly Secret[], options?: WebhookOptions);
  /**
   * Verifies a delivery against the system clock, as npm `standardwebhooks` 1.1 does.
   * @returns the payload parsed as JSON; `undefined` for an empty payload, or with `{ jsonParse: false }`.
   * @throws WebhookVerificationError naming the failure; TypeError for a body or headers of the wrong type.
   */
  verify(payload: Body, headers: HeadersLike, options?: VerifyOptions): unknown;
  /**
   * Verifies a delivery. `now` is Unix seconds (default: the clock), a finite number 0 or more.
   * @returns the index of the secret that matched.
   * @throws WebhookVerificationError naming the failure; TypeError for a body, headers or `now` of the wrong type.
   */
  verify(delivery: { headers: HeadersLike; body: Body; now?: number }): number;
  /** The `webhook-signature` header value, one entry per secret. `timestamp`: a Date, or Unix seconds. */
  sign(msgId: string, timestamp: Date | number, payload: Body): string;
  /** Drops the secrets; the Webhook cannot be used afterwards. Optional: nothing is reserved. */
  free(): void;
  [Symbol.dispose](): void;
}

/**
 * Resolves if the delivery is genuine and fresh; rejects with a WebhookVerificationError. Keeps up to 16
 * secrets' `Webhook`s, by secret.
 */
export function verify(delivery: {
  secret: string;
  headers: HeadersLike;
  body: Body;
  now?: number;
  tolerance?: number;
}): Promise<void>;

/** The `data` fields Gemini documents for its events; each may be absent. */
export interface GeminiEventData {
  id?: string;
  output_file_uri?: string;
  /** Google's cookbook reads this name for `output_file_uri`. */
  video_uri?: string;
  file_name?: string;
  error_code?: string;
  error_message?: string;
  [field: string]: unknown;
}

/** The envelope every Gemini webhook body carries, typed by `type`. */
export type GeminiEvent =
  | {
      type:
        | 'batch.succeeded' | 'batch.failed' | 'batch.cancelled' | 'batch.expired'
        | 'interaction.requires_action' | 'interaction.completed' | 'interaction.failed' | 'interaction.cancelled'
        | 'video.generated';
      version?: string;
      timestamp?: string;
      data?: GeminiEventData;
    }
  | { type: string & {}; version?: string; timestamp?: string; data?: Record<string, unknown> };

/** A JSON Web Key Set, as Google serves it. */
export interface JwksDocument {
  keys: Array<Record<string, unknown>>;
}

/** What a verified Gemini delivery is. */
export type GeminiDelivery = {
  id: string;
  /** `webhook-timestamp`, Unix seconds. */
  timestamp: number;
  /** The body parsed as a Gemini envelope; undefined if it is not one (still authentic: answer 2xx). */
  event: GeminiEvent | undefined;
} & (
  | { mode: 'static'; authenticated: 'signature'; /** Which secret matched. */ key: number }
  | {
      mode: 'dynamic';
      /** `signature`: a claim binds the body; `bearer-token`: only the sender is authenticated. */
      authenticated: 'signature' | 'bearer-token';
      /** The JWKS key that verified the token. */
      kid: string;
      /** The token's claims, verified. */
      claims: Record<string, unknown>;
      /** The claim that binds the body, when one does. */
      boundBy?: string;
      /**
       * What identifies this delivery when it is resent under another `webhook-id` (the token signs neither
       * header): 64 lowercase hex digits, the Rust crate's `ReplayKey` for the same token and body. Store it with
       * the delivery and acknowledge (2xx) one whose key you have seen, without handling it again; keep keys at
       * least 24 h and a minute (the default `maxAge` plus the leeway).
       */
      replayKey: string;
      /** What `replayKey` was derived from: the token's `iss` and `jti`, its signature, or its signature and the body. */
      replaySource: 'TokenId' | 'Signature' | 'SignatureAndBody';
    }
);

/** A JSON value, as a required claim's value. */
export type JsonValue = string | number | bigint | boolean | null | readonly JsonValue[] | { readonly [name: string]: JsonValue };

/** Options of `GeminiReceiver`, with the Rust crate's defaults. */
export interface GeminiReceiverOptions {
  /** The static webhooks' `whsec_` secrets, current first. */
  secrets?: string | readonly string[];
  /** The URL (or URLs) dynamic tokens must name in `aud`; without it (or `audiencePrefix`), dynamic deliveries are refused. */
  audience?: string | readonly string[];
  /**
   * Also accept an `aud` that is this base followed by `/` or `?` and anything (or the base itself): per-job webhook
   * URIs such as `…/webhooks/gemini/<capability>`. `https://you.example` never accepts `https://you.example.evil.com`.
   */
  audiencePrefix?: string | readonly string[];
  /** Google's keys as a JWKS object (offline); otherwise `jwksUrl` is fetched and cached. */
  jwks?: JwksDocument;
  /** Default: `GOOGLE_JWKS_URL`. https only (http on loopback, for tests). */
  jwksUrl?: string;
  /** A cache to use (and share between receivers) instead of one made from `jwksUrl`. */
  jwksCache?: JwksCache;
  /** Required `iss` (off by default: Google does not document one). */
  issuer?: string | readonly string[];
  /** Clock difference allowed on `exp`, `nbf`, `iat`, in seconds (60). */
  leeway?: number;
  /**
   * Refuse tokens whose `iat` is older (seconds, plus the leeway); `iat` becomes required. By default an `iat` older
   * than 24 hours (Gemini's retry window) is refused and a token without `iat` is not; `null` lifts the bound.
   */
  maxAge?: number | null;
  /** Accept tokens without `exp`; only with `maxAge`, which then bounds them. */
  allowMissingExp?: boolean;
  /**
   * Verified claims that must equal these values (JSON equality, as the crate's `require_claim`: `"2"` is not `2`,
   * and an integral number requires an integer, not `2.0`); otherwise `ClaimNotAccepted`.
   */
  requireClaims?: Readonly<Record<string, JsonValue>>;
  /** A predicate on the verified claims, run after every other claim check, never on an unverified token. */
  claimsCheck?: (claims: Record<string, unknown>) => boolean;
  /** Refuse tokens that do not bind the body (`BodyNotBound`). */
  requireBoundBody?: boolean;
  /**
   * `requireBoundBody`, with only these claims binding the body (compared without case, `_`, `-` and `.`;
   * `parent.member` names a member): a string as the body's SHA-256, an object as the embedded event.
   */
  requireBodyBoundBy?: string | readonly string[];
  /** The `webhook-timestamp` window, in seconds (300). */
  tolerance?: number;
}

/** Google's JWKS for dynamic webhooks. */
export const GOOGLE_JWKS_URL: string;

/** Why a JWKS key was skipped: the Rust crate's `SkipReason` variant. */
export type SkipCode =
  | 'KeyType' | 'Use' | 'Algorithm' | 'MissingKeyId' | 'InvalidComponents' | 'Size' | 'NonMinimalEncoding' | 'Exponent'
  | 'Rejected' | 'DuplicateKeyId' | 'NotAnObject';

/**
 * A JWKS reduced to the RSA keys that can check RS256, imported into WebCrypto: `kty` RSA, `use` sig or absent, `alg`
 * RS256 or absent, a `kid`, a minimally encoded 2048- to 8192-bit modulus and an odd exponent from 3 to 2^33 − 1.
 * Two usable keys with one `kid` are both refused.
 */
export class Jwks {
  static from(document: JwksDocument | string): Promise<Jwks>;
  /** Keys skipped, with why (`reason` as the crate displays it). */
  readonly skipped: Array<{ kid: string | undefined; code: SkipCode; reason: string }>;
  key(kid: string): CryptoKey | undefined;
  kids(): string[];
}

/**
 * Google's keys fetched and cached: `max-age` clamped to 5 min..24 h, unknown kids refresh at most once per 30 s;
 * while refreshes fail, the last good keys serve until 24 h after the fetch that brought them (not after their
 * expiry), as the Rust crate's `STALE_LIMIT`. Lifetimes and rate limits run on `clock` (seconds; monotonic by
 * default, so a wall clock stepped back neither blocks refreshes nor keeps old keys); a fetch counts as in flight
 * until `fetchTimeout` (ms, 5000) at most.
 */
export class JwksCache {
  constructor(url?: string, options?: {
    fetch?: typeof fetch; clock?: () => number; fetchTimeout?: number; minRefreshInterval?: number;
  });
  /** The keys to check `kid` with; rejects with `KeysUnavailable` or `UnknownKeyId`. */
  keys(kid: string): Promise<Jwks>;
}

/** Claim names that say "this is a digest of the body" (compared without case, `_`, `-` and `.`). */
export const BODY_DIGEST_CLAIMS: readonly string[];
/** Claim names that embed the event itself. */
export const EMBEDDED_EVENT_CLAIMS: readonly string[];

/** Why a capability was refused, or a secret or nonce cannot be used: the Rust crate's `CapabilityError`. */
export class CapabilityError extends Error {
  readonly code: 'ShortSecret' | 'InvalidNonce' | 'Malformed' | 'Mismatch';
}

/**
 * Per-job capabilities, as the Rust crate's `JobCapabilities`: `<nonce>.<tag>`, the tag being the unpadded base64url
 * HMAC-SHA256 of the nonce under a local secret, so anyone else's job pointed at your URL has none. A capability
 * issued by one checks in the other.
 */
export class JobCapabilities {
  static readonly MIN_SECRET_LEN: 32;
  static readonly MAX_NONCE_LEN: 64;
  /** `secret`: at least 32 bytes (a string is taken as UTF-8) that only your service holds. */
  constructor(secret: string | Uint8Array | ArrayBuffer);
  /** A capability with a random 128-bit nonce, for a new job's webhook URI. */
  issue(): Promise<string>;
  /** A capability whose nonce is yours (1 to 64 characters of `A-Z a-z 0-9 - _`). */
  issueFor(nonce: string): Promise<string>;
  /** Resolves to the capability's nonce; rejects with a CapabilityError (`Malformed`, `Mismatch`). */
  check(capability: string): Promise<string>;
}

/** Receives Gemini API webhooks: static (`v1,` HMAC) and dynamic (RS256 JWT checked with WebCrypto). */
export class GeminiReceiver {
  constructor(options: GeminiReceiverOptions);
  /**
   * Verifies a delivery: `body` the exact bytes (or text) received; `now` Unix seconds (default: the clock).
   * @throws WebhookVerificationError whose `code` names the failure (`BadSignature`, `WrongAudience`, `Expired`, …).
   */
  verify(body: Body, headers: HeadersLike, options?: { now?: number }): Promise<GeminiDelivery>;
}

/** A delivery the middleware verified. */
export interface WebhookDelivery {
  /** `webhook-id` (or `svix-id`): deduplicate on it. */
  id: string;
  /** `webhook-timestamp`, Unix seconds. */
  timestamp: number;
  /** The raw body, exactly as signed. */
  body: Uint8Array;
  /** The body parsed as JSON; undefined if it is empty or not JSON. */
  payload: unknown;
}

/** Options of the middleware: `Webhook` options plus the body limit and where rejections are reported. */
export interface WebhookMiddlewareOptions extends WebhookOptions {
  /** The largest body read, in bytes (default `MAX_BODY`, 1 MiB); over it, 413. */
  maxBytes?: number;
  /** Told why a delivery was refused (default: `console.warn` of its code); the sender only sees the status. */
  onReject?: (error: Error) => void;
}

/** Node/Express request and response, as far as the middleware uses them. */
interface ExpressRequestLike extends AsyncIterable<Uint8Array | string> {
  headers: Record<string, string | string[] | undefined>;
  /**
   * Set by the middleware when it read the stream and nothing had set it: the payload parsed as JSON, or the raw
   * bytes (a Buffer) when the body is empty or not JSON.
   */
  body?: unknown;
  /** Set with `body`: body parsers mounted after the middleware skip the request. */
  _body?: boolean;
  rawBody?: unknown;
  readableEnded?: boolean;
  webhook?: WebhookDelivery;
}
interface ExpressResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(): unknown;
}

/**
 * Express middleware: raw body (`req.rawBody`, a Buffer from `express.raw()`, or the stream), 413 over
 * `maxBytes`, 400 for a broken body or missing/malformed headers, 401 for a delivery that does not verify; sets
 * `req.webhook` and `req.rawBody`, and when it read the stream, `req.body` (if unset: the parsed JSON, else the
 * raw Buffer) and `req._body`.
 */
export function expressWebhook(secret: Secret | readonly Secret[] | Webhook, options?: WebhookMiddlewareOptions):
  (req: ExpressRequestLike, res: ExpressResponseLike, next: (error?: unknown) => void) => Promise<void>;

/** Hono context, as far as the middleware uses it. */
interface HonoContextLike {
  req: { raw: Request; bodyCache: Record<string, unknown> };
  set(key: 'webhook', value: WebhookDelivery): void;
  body(data: null, status: number): Response;
}

/** Hono middleware: the same statuses; `c.get('webhook')`, and `c.req.json()` and `c.req.raw` still read the body afterwards. */
export function honoWebhook(secret: Secret | readonly Secret[] | Webhook, options?: WebhookMiddlewareOptions):
  (c: HonoContextLike, next: () => Promise<void>) => Promise<Response | void>;

/**
 * Wraps a Fetch-style handler (Next.js route handlers, Workers, Deno.serve): the same statuses; the body is read
 * from a clone, so the handler gets the caller's own request (a `NextRequest` stays one), its body readable, and
 * the delivery.
 */
export function withWebhook<Req extends Request, Rest extends unknown[]>(
  secret: Secret | readonly Secret[] | Webhook,
  handler: (request: Req, delivery: WebhookDelivery, ...rest: Rest) => Response | Promise<Response>,
  options?: WebhookMiddlewareOptions,
): (request: Req, ...rest: Rest) => Promise<Response>;
