// Types for webhook-signature.mjs (hand-written; the module is JavaScript over a wasm C ABI).

/** The webhook_signature::Error variant a rejection names. */
export type ErrorCode =
  | 'InvalidSecret' | 'InvalidId' | 'MissingHeader' | 'InvalidHeader' | 'InvalidTimestamp'
  | 'TimestampTooOld' | 'TimestampTooNew' | 'NoSupportedSignature' | 'NoMatchingSignature'
  | 'CannotSign' | 'BufferTooSmall' | 'TooManyKeys' | 'OutOfMemory' | 'Unknown';

/** Thrown for every rejected delivery or key. */
export class WebhookVerificationError extends Error {
  readonly code: ErrorCode;
  /** The module's status number, when the module reported it. */
  readonly status?: number;
}

/**
 * A Fetch `Headers` (or anything with `get(name)`), or a plain object of header values (Node's
 * `IncomingHttpHeaders`). `svix-id`, `svix-timestamp` and `svix-signature` are read when the
 * `webhook-*` names are absent.
 */
export type HeadersLike = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

/** The raw body: a string (hashed as UTF-8) or the exact bytes of any binary view. */
export type Body = string | ArrayBuffer | SharedArrayBuffer | ArrayBufferView;

/** Thrown by `readBody` for a body over its limit: answer 413. */
export class BodyTooLargeError extends RangeError {
  readonly code: 'BodyTooLarge';
  readonly maxBytes: number;
}

/** What `readBody` reads: a Fetch `Request`, or a Node `IncomingMessage` (an async iterable of chunks). */
export type RequestLike =
  | { headers: HeadersLike; body: ReadableStream<Uint8Array> | null; arrayBuffer(): Promise<ArrayBuffer> }
  | ({ headers: HeadersLike } & AsyncIterable<Uint8Array | string>);

/**
 * The request's raw body as one `Uint8Array`. A body declared (`Content-Length`) over `maxBytes` (default
 * `MAX_BODY`) is refused before any of it is read, an undeclared one at the first chunk past it.
 * @throws BodyTooLargeError past `maxBytes`; TypeError for anything but a request.
 */
export function readBody(request: RequestLike, options?: { maxBytes?: number }): Promise<Uint8Array>;

/** Keys the module holds at once. */
export const KEY_SLOTS: 64;
/** The largest body accepted, in bytes (16 MiB). */
export const MAX_BODY: number;

/**
 * Instantiates the module from a WebAssembly.Module, its bytes, a Response, or (default) the file beside the
 * wrapper (node:fs in Node and Bun, the package's `.wasm` export in workerd, fetch elsewhere). Idempotent:
 * later calls with no source, the same source or the same bytes reuse the first instance, and concurrent calls
 * share one promise. A different module makes a separate instance for the `Webhook`s created after it.
 */
export function init(source?: WebAssembly.Module | BufferSource | Response | Promise<Response | BufferSource | WebAssembly.Module>): Promise<void>;
/** Instantiates the module synchronously; idempotent like `init`. */
export function initSync(source: WebAssembly.Module | BufferSource): void;

/** Secrets set up once inside the module instance current at construction, which it keeps. */
export class Webhook {
  /**
   * @param secretOrSecrets `whsec_…` (or `whpk_`/`whsk_` in the Ed25519 build), or several during a rotation.
   * @throws WebhookVerificationError `InvalidSecret`, or `TooManyKeys` when the module's 64 key slots are taken.
   */
  constructor(secretOrSecrets: string | readonly string[], options?: { tolerance?: number });
  /**
   * Verifies a delivery. `now` is Unix seconds (default: the clock).
   * @returns the index of the secret that matched.
   * @throws WebhookVerificationError naming the failure; TypeError for a body or headers of the wrong type.
   */
  verify(delivery: { headers: HeadersLike; body: Body; now?: number }): number;
  /** The `webhook-signature` header value: one entry per secret. `timestamp` is Unix seconds. */
  sign(id: string, timestamp: number, body: Body): string;
  /** Releases the key slots; the instance cannot be used afterwards. */
  free(): void;
  [Symbol.dispose](): void;
}

/**
 * Resolves if the delivery is genuine and fresh; rejects with a WebhookVerificationError. Initialises the module
 * on first use (`init()`), and keeps up to 16 secrets' keys set up, by secret.
 */
export function verify(delivery: {
  secret: string;
  headers: HeadersLike;
  body: Body;
  now?: number;
  tolerance?: number;
}): Promise<void>;
