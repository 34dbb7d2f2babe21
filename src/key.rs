use base64ct::{Base64Unpadded, Encoding};

use crate::Error;
use crate::hmac256::HmacKey;
#[cfg(feature = "ed25519")]
use crate::v1a;

/// The largest decoded secret accepted, decoded on the stack. HMAC hashes any
/// key over 64 bytes, so longer keys add nothing but stack use.
pub const MAX_KEY_LEN: usize = 4096;

/// The prefix of a Standard Webhooks symmetric secret.
pub(crate) const HMAC_PREFIX: &str = "whsec_";

/// Key material for one scheme, held as ready-to-use states rather than raw
/// bytes (as `hmac` itself does), so no verification re-derives it.
// No boxing without an allocator: an Ed25519 secret key (with its public key
// and −A precomputed) makes every `Webhook` about 420 bytes.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(crate) enum Key {
    /// A `v1` HMAC-SHA256 key, already absorbed into the inner and outer states.
    Hmac(HmacKey),
    /// A `v1a` Ed25519 public key (`whpk_`): verifies only.
    #[cfg(feature = "ed25519")]
    Ed25519Public(v1a::PublicKey),
    /// A `v1a` Ed25519 secret key (`whsk_`), with its public key: signs and verifies.
    #[cfg(feature = "ed25519")]
    Ed25519Secret(v1a::SecretKey, v1a::PublicKey),
}

impl Key {
    /// Parses `whsec_<base64>` or bare base64 (HMAC), and with the `ed25519`
    /// feature `whpk_<base64>` and `whsk_<base64>`.
    pub(crate) fn parse(secret: &str) -> Result<Self, Error> {
        let (kind, encoded) = Kind::split(secret);
        let mut buf = [0u8; MAX_KEY_LEN];
        let result = decode_base64(encoded, &mut buf).and_then(|bytes| kind.key(bytes));
        wipe(&mut buf);
        result
    }

    /// An HMAC key from raw bytes; empty keys are rejected.
    pub(crate) fn hmac(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.is_empty() {
            return Err(Error::InvalidSecret);
        }
        Ok(Self::Hmac(HmacKey::new(bytes)))
    }
}

/// What a secret's prefix says it holds.
#[derive(Clone, Copy)]
enum Kind {
    Hmac,
    #[cfg(feature = "ed25519")]
    Ed25519Public,
    #[cfg(feature = "ed25519")]
    Ed25519Secret,
}

impl Kind {
    /// The kind named by the prefix, and the base64 after it. Text without a
    /// known prefix is a bare HMAC secret.
    fn split(secret: &str) -> (Self, &str) {
        #[cfg(feature = "ed25519")]
        for (prefix, kind) in
            [(v1a::PUBLIC_PREFIX, Self::Ed25519Public), (v1a::SECRET_PREFIX, Self::Ed25519Secret)]
        {
            if let Some(rest) = secret.strip_prefix(prefix) {
                return (kind, rest);
            }
        }
        (Self::Hmac, secret.strip_prefix(HMAC_PREFIX).unwrap_or(secret))
    }

    fn key(self, bytes: &[u8]) -> Result<Key, Error> {
        match self {
            Self::Hmac => Key::hmac(bytes),
            #[cfg(feature = "ed25519")]
            Self::Ed25519Public => v1a::PublicKey::from_bytes(bytes).map(Key::Ed25519Public),
            #[cfg(feature = "ed25519")]
            Self::Ed25519Secret => {
                let secret = v1a::SecretKey::from_bytes(bytes)?;
                let public = secret.public_key()?;
                Ok(Key::Ed25519Secret(secret, public))
            }
        }
    }
}

/// Decodes standard-alphabet base64 the way the reference libraries do:
/// padding is optional but must be right when present, and unused bits in the
/// last character are ignored (base64ct alone rejects them). Decoding runs in
/// base64ct's constant time, since the text is a secret.
pub(crate) fn decode_base64<'o>(text: &str, out: &'o mut [u8]) -> Result<&'o [u8], Error> {
    let unpadded = text.trim_end_matches('=').as_bytes();
    let pads = text.len().saturating_sub(unpadded.len());
    let tail_len = unpadded.len() % 4;
    // Padding, when present, completes the last quantum: "xy==" or "xyz=".
    let padding_ok = pads == 0
        || (tail_len >= 2 && pads == 4usize.saturating_sub(tail_len) && text.len().is_multiple_of(4));
    if tail_len == 1 || !padding_ok {
        return Err(Error::InvalidSecret);
    }
    let split = unpadded.len().saturating_sub(tail_len);
    let (full, tail) = unpadded.split_at_checked(split).ok_or(Error::InvalidSecret)?;
    let head_len = Base64Unpadded::decode(full, out).map_err(|_| Error::InvalidSecret)?.len();

    // The last, partial quantum: complete it with 'A' (zero bits) so that the
    // non-canonical bits land in bytes that are then dropped.
    let mut quantum = [b'A'; 4];
    let mut bytes = [0u8; 3];
    let end = head_len.saturating_add(tail_len.saturating_sub(1));
    let decoded = match (quantum.get_mut(..tail_len), out.get_mut(head_len..end)) {
        (Some(slot), Some(dst)) => {
            // Zipped: equal lengths, and no panicking length check in the wasm module.
            slot.iter_mut().zip(tail).for_each(|(to, &from)| *to = from);
            Base64Unpadded::decode(quantum, &mut bytes)
                .ok()
                .and_then(|decoded| decoded.get(..dst.len()))
                .map(|src| dst.copy_from_slice(src))
                .is_some()
        }
        _ => false,
    };
    wipe(&mut quantum);
    wipe(&mut bytes);
    match out.get(..end) {
        Some(key) if decoded => Ok(key),
        _ => Err(Error::InvalidSecret),
    }
}

/// Clears a buffer that held key material (only with the `zeroize` feature:
/// a plain write would be optimised away).
fn wipe(buf: &mut [u8]) {
    #[cfg(feature = "zeroize")]
    zeroize::Zeroize::zeroize(buf);
    #[cfg(not(feature = "zeroize"))]
    let _ = buf;
}
