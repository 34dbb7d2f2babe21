// Strict unpadded base64url (RFC 4648, section 5), as the Rust crate's
// base64ct and base64 engines read it: no padding, no other alphabet, and
// the unused trailing bits of the last character zero.

/** The bytes of `segment`, or undefined if it is not canonical unpadded base64url. */
export function decodeBase64url(segment) {
  if (typeof segment !== 'string' || !/^[A-Za-z0-9_-]*$/.test(segment) || segment.length % 4 === 1) return undefined;
  const padded = segment.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (segment.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return encodeBase64url(bytes) === segment ? bytes : undefined;
}

/** `bytes` as unpadded base64url. */
export function encodeBase64url(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** `bytes` as lowercase hex. */
export function hex(bytes) {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}
