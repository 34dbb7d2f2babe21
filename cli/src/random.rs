//! Fresh secrets and message ids from the operating system's random source.

use base64ct::{Base64, Encoding};

/// Bytes of a new `whsec_` secret: 24, as Svix generates (32 base64 characters).
const SECRET_LEN: usize = 24;

/// `N` bytes from the operating system's random source.
pub(crate) fn bytes<const N: usize>() -> crate::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| format!("random source: {e}"))?;
    Ok(bytes)
}

/// A fresh random `whsec_` secret.
pub(crate) fn new_secret() -> crate::Result<String> {
    Ok(format!("whsec_{}", Base64::encode_string(&bytes::<SECRET_LEN>()?)))
}

/// A fresh message id: `msg_` and 16 random bytes in hex.
pub(crate) fn new_message_id() -> crate::Result<String> {
    let bytes = bytes::<16>()?;
    Ok(format!("msg_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}
