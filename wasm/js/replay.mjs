// Replay keys of dynamic deliveries, byte for byte as the Rust crate derives
// them (gemini/src/replay.rs `ReplayKey`): SHA-256 over a domain string, then
// each input as an 8-byte big-endian length and its bytes; 64 lowercase hex
// digits, as the crate's `Display` writes the key.
import { hex } from './base64url.mjs';

const utf8 = new TextEncoder();
const JTI_DOMAIN = 'webhook-signature-gemini replay v1 jti\0';
const SIGNATURE_DOMAIN = 'webhook-signature-gemini replay v1 signature\0';
const SIGNATURE_AND_BODY_DOMAIN = 'webhook-signature-gemini replay v1 signature+body\0';

/** SHA-256 of the domain and each part, length-prefixed, as hex. */
async function digest(domain, ...parts) {
  const chunks = [utf8.encode(domain)];
  for (const part of parts) {
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigUint64(0, BigInt(part.length));
    chunks.push(length, part);
  }
  const input = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    input.set(chunk, at);
    at += chunk.length;
  }
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', input)));
}

/** The key of a token with `jti`, issued by `iss` (absent counts as ''): the token is used once, whatever the body. */
export const fromTokenId = (iss, jti) => digest(JTI_DOMAIN, utf8.encode(iss ?? ''), utf8.encode(jti));

/** The key of a token without `jti` that binds the body: its decoded RS256 signature. */
export const fromSignature = (signature) => digest(SIGNATURE_DOMAIN, signature);

/** The key of a bearer token without `jti`: its signature and the body's SHA-256. */
export const fromSignatureAndBody = (signature, bodyDigest) => digest(SIGNATURE_AND_BODY_DOMAIN, signature, bodyDigest);
