//! The scheme's two primitives, public so that tools recompute what a
//! sender's mistake would have produced with the very code that verifies (the
//! CLI's `diagnose` keys a MAC with a secret's text, MACs the body alone, …).

use crate::error::Error;
use crate::hmac256::HmacKey;
use crate::key::{HMAC_PREFIX, decode_base64};

/// Decodes an HMAC secret exactly as [`Webhook::new`](crate::Webhook::new)
/// does: `whsec_<base64>` or bare base64, padding optional, into `out` (at
/// most [`MAX_KEY_LEN`](crate::MAX_KEY_LEN) bytes are ever needed). Runs in
/// constant time with respect to the secret's content.
///
/// # Errors
/// [`Error::InvalidSecret`] if it is not base64, decodes to nothing, or does
/// not fit `out`.
///
/// # Examples
/// ```
/// let mut key = [0u8; webhook_signature::MAX_KEY_LEN];
/// let key = webhook_signature::decode_hmac_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &mut key)?;
/// assert_eq!(key.len(), 24);
/// # Ok::<(), webhook_signature::Error>(())
/// ```
pub fn decode_hmac_secret<'o>(secret: &str, out: &'o mut [u8]) -> Result<&'o [u8], Error> {
    let encoded = secret.strip_prefix(HMAC_PREFIX).unwrap_or(secret);
    match decode_base64(encoded, out)? {
        [] => Err(Error::InvalidSecret),
        key => Ok(key),
    }
}

/// HMAC-SHA256 under `key` of `parts`, concatenated: the `v1` MAC, which
/// covers `{id}.{timestamp}.{body}`. Keys over 64 bytes are hashed first, as
/// RFC 2104 says.
///
/// # Examples
/// ```
/// // RFC 4231, test case 2.
/// let mac = webhook_signature::hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
/// assert_eq!(mac[..4], [0x5b, 0xdc, 0xc1, 0x46]);
/// ```
#[must_use]
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let key = HmacKey::new(key);
    let mut mac = key.start();
    for part in parts {
        mac.update(part);
    }
    key.finish(&mut mac)
}
