//! What identifies a dynamic delivery when it is sent again.
//!
//! A dynamic token signs neither `webhook-id` nor `webhook-timestamp`, so a
//! captured delivery can be resent under a new id with a fresh timestamp and
//! still verify until the token expires. Deduplicating on `webhook-id` alone
//! stores it again; deduplicating on what the sender signed does not.

use core::fmt;
use core::str::FromStr;

use sha2::{Digest, Sha256};

#[cfg(doc)]
use crate::BodyBinding;

/// Identifies a dynamic delivery by what Google signed, whatever its
/// `webhook-id` and `webhook-timestamp` say: store it beside the delivery and
/// treat a second delivery with the same key as a duplicate.
///
/// - With a `jti` claim (RFC 7519, section 4.1.7: "can be used to prevent the
///   JWT from being replayed"): SHA-256 over the `iss` (empty if absent) and
///   the `jti`, each length-prefixed. A token is used once, whatever body it
///   comes with.
/// - Without one, for a token that binds the body ([`BodyBinding::Bound`]):
///   SHA-256 over the RS256 signature (which identifies the token: PKCS#1
///   v1.5 signatures are deterministic and aws-lc accepts one encoding
///   only). The token fixes the body, so the body's bytes take no part: the
///   same event re-serialised (spaces, member order) under an embedded-event
///   claim is still the same delivery.
/// - Without one, for a bearer token: SHA-256 over the signature and the
///   SHA-256 of the body, each length-prefixed. A token the sender reuses for
///   another event gives another key; the same token with the same body, the
///   same key. (Any other body is not a replay but a bearer-token delivery,
///   which is all such a token can prove: require a bound body to refuse them.)
///
/// Each is domain-separated, so one source cannot produce another's key.
///
/// With a `jti`, the first delivery of a token wins: if someone who captured
/// a bearer token before its delivery sent it first with another body, the
/// genuine delivery would be the duplicate. Tokens are normally seen only
/// once delivered, when resending them is what this key stops.
/// A resent token verifies until `exp` (or its maximum age by `iat`) plus the
/// leeway: keep the keys at least that long (with the defaults, 24 hours and
/// a minute after `iat`).
///
/// Static deliveries have none: their `v1` signature covers `webhook-id`, so
/// deduplicating on the id is already deduplicating on what was signed.
///
/// # Examples
/// ```
/// use webhook_signature_gemini::ReplayKey;
/// let key = ReplayKey::from_bytes([0xab; 32]);
/// assert_eq!(key.to_string().len(), 64);
/// assert!(key.to_string().starts_with("abab"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplayKey([u8; 32]);

/// What a [`ReplayKey`] was derived from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplaySource {
    /// The token's `iss` and `jti`.
    TokenId,
    /// The token's signature: the token binds the body.
    Signature,
    /// The token's signature and the body's SHA-256: a bearer token.
    SignatureAndBody,
}

const JTI_DOMAIN: &[u8] = b"webhook-signature-gemini replay v1 jti\0";
const SIGNATURE_DOMAIN: &[u8] = b"webhook-signature-gemini replay v1 signature\0";
const SIGNATURE_AND_BODY_DOMAIN: &[u8] = b"webhook-signature-gemini replay v1 signature+body\0";

impl ReplayKey {
    /// A key from its 32 bytes, e.g. read back from storage.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key's 32 bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key for a token with `jti`, issued by `iss`.
    pub(crate) fn from_token_id(iss: Option<&str>, jti: &str) -> Self {
        Self(
            Sha256::new()
                .chain_update(JTI_DOMAIN)
                .chain_update(prefixed(iss.unwrap_or_default().as_bytes()))
                .chain_update(iss.unwrap_or_default())
                .chain_update(prefixed(jti.as_bytes()))
                .chain_update(jti)
                .finalize()
                .into(),
        )
    }

    /// The key for a token without `jti` that binds the body: its signature.
    pub(crate) fn from_signature(signature: &[u8]) -> Self {
        Self(
            Sha256::new()
                .chain_update(SIGNATURE_DOMAIN)
                .chain_update(prefixed(signature))
                .chain_update(signature)
                .finalize()
                .into(),
        )
    }

    /// The key for a bearer token without `jti`: its signature and the body's digest.
    pub(crate) fn from_signature_and_body(signature: &[u8], body_digest: &[u8; 32]) -> Self {
        Self(
            Sha256::new()
                .chain_update(SIGNATURE_AND_BODY_DOMAIN)
                .chain_update(prefixed(signature))
                .chain_update(signature)
                .chain_update(prefixed(body_digest))
                .chain_update(body_digest)
                .finalize()
                .into(),
        )
    }
}

/// A length as 8 big-endian bytes, so no two inputs hash the same.
fn prefixed(bytes: &[u8]) -> [u8; 8] {
    (bytes.len() as u64).to_be_bytes()
}

/// Text that is not 64 hex digits, read as a [`ReplayKey`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidReplayKey;

impl fmt::Display for InvalidReplayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a replay key is 64 hex digits")
    }
}

impl std::error::Error for InvalidReplayKey {}

/// Reads the [`Display`](fmt::Display) form back (either case), e.g. from a text column.
impl FromStr for ReplayKey {
    type Err = InvalidReplayKey;

    fn from_str(text: &str) -> Result<Self, InvalidReplayKey> {
        if text.len() != 64 {
            return Err(InvalidReplayKey);
        }
        let mut bytes = [0_u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let pair = core::str::from_utf8(pair).map_err(|_| InvalidReplayKey)?;
            if !pair.bytes().all(|digit| digit.is_ascii_hexdigit()) {
                return Err(InvalidReplayKey);
            }
            *byte = u8::from_str_radix(pair, 16).map_err(|_| InvalidReplayKey)?;
        }
        Ok(Self(bytes))
    }
}

impl From<ReplayKey> for [u8; 32] {
    fn from(key: ReplayKey) -> Self {
        key.0
    }
}

/// 64 lowercase hex digits.
impl fmt::Display for ReplayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl fmt::Debug for ReplayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplayKey({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_separated_and_lengths_prefixed() {
        let digest = [7; 32];
        assert_ne!(ReplayKey::from_token_id(None, "a"), ReplayKey::from_token_id(Some("a"), ""));
        assert_ne!(ReplayKey::from_token_id(Some("ab"), "c"), ReplayKey::from_token_id(Some("a"), "bc"));
        assert_eq!(ReplayKey::from_token_id(None, "x"), ReplayKey::from_token_id(Some(""), "x"));
        let with_body = ReplayKey::from_signature_and_body;
        assert_ne!(with_body(b"s", &digest), with_body(b"t", &digest));
        assert_ne!(with_body(b"s", &digest), with_body(b"s", &[8; 32]));
        assert_ne!(ReplayKey::from_signature(b"s"), ReplayKey::from_signature(b"t"));
        assert_ne!(ReplayKey::from_signature(b"s"), with_body(b"s", &digest));
    }

    #[test]
    fn hex_form() {
        let key = ReplayKey::from_bytes([0x01; 32]);
        assert_eq!(key.to_string(), "01".repeat(32));
        assert_eq!(<[u8; 32]>::from(key), [0x01; 32]);
        let mixed = ReplayKey::from_bytes(core::array::from_fn(|i| i as u8 * 7));
        assert_eq!(mixed.to_string().parse(), Ok(mixed));
        assert_eq!(mixed.to_string().to_uppercase().parse(), Ok(mixed));
        for bad in
            ["", "0", &"0".repeat(63), &"0".repeat(65), &"g".repeat(64), &format!("+{}", "0".repeat(63))]
        {
            assert_eq!(bad.parse::<ReplayKey>(), Err(InvalidReplayKey), "{bad:?}");
        }
        assert_eq!(format!("{mixed:?}"), format!("ReplayKey({mixed})"));
    }
}
