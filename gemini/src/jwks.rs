//! A JSON Web Key Set (RFC 7517), reduced to the RSA keys that can check RS256.

use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use jsonwebtoken::DecodingKey;
use serde::Deserialize;

/// The smallest RSA modulus kept, in bits (NIST SP 800-131A).
pub const MIN_RSA_BITS: usize = 2048;
/// The largest RSA modulus kept, in bits: bigger keys only cost verification time.
pub const MAX_RSA_BITS: usize = 8192;

/// The RS256 signing keys of a JWKS, by `kid`.
///
/// Kept: `kty` `RSA`, `use` `sig` or absent, `alg` `RS256` or absent, a `kid`,
/// and a modulus of [`MIN_RSA_BITS`] to [`MAX_RSA_BITS`]. Every other key is
/// skipped, with the reason in [`skipped`](Self::skipped).
#[derive(Clone, Default)]
pub struct Jwks {
    keys: Vec<RsaKey>,
    skipped: Vec<SkippedKey>,
}

#[derive(Clone)]
struct RsaKey {
    kid: String,
    bits: usize,
    key: DecodingKey,
}

/// A key of the document that is not kept, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedKey {
    /// The key's `kid`, if it has one.
    pub kid: Option<String>,
    /// Why it cannot check an RS256 token.
    pub reason: SkipReason,
}

/// Why a JWKS entry was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// `kty` is not `RSA` (the value is kept).
    KeyType(String),
    /// `use` is not `sig` (the value is kept).
    Use(String),
    /// `alg` is not `RS256` (the value is kept).
    Algorithm(String),
    /// No `kid`, so no token could select it.
    MissingKeyId,
    /// `n` or `e` is missing or not base64url.
    InvalidComponents,
    /// The modulus has this many bits, outside 2048 to 8192.
    Size(usize),
    /// Another kept key already has this `kid`.
    DuplicateKeyId,
    /// The entry is not a JSON object with string members.
    NotAnObject,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeyType(kty) => write!(f, "kty {kty:?} is not RSA"),
            Self::Use(usage) => write!(f, "use {usage:?} is not sig"),
            Self::Algorithm(alg) => write!(f, "alg {alg:?} is not RS256"),
            Self::MissingKeyId => f.write_str("no kid"),
            Self::InvalidComponents => f.write_str("n or e missing or not base64url"),
            Self::Size(bits) => write!(f, "{bits}-bit modulus, outside {MIN_RSA_BITS} to {MAX_RSA_BITS}"),
            Self::DuplicateKeyId => f.write_str("duplicate kid"),
            Self::NotAnObject => f.write_str("not a JSON object of string members"),
        }
    }
}

/// The JWKS document is not a JSON object with a `keys` array.
#[derive(Debug)]
pub struct InvalidJwks(serde_json::Error);

impl fmt::Display for InvalidJwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JWKS: {}", self.0)
    }
}

impl std::error::Error for InvalidJwks {}

#[derive(Deserialize)]
struct Document {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    alg: Option<String>,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

impl Jwks {
    /// Parses a JWKS document, keeping its RS256 signing keys.
    ///
    /// # Errors
    /// [`InvalidJwks`] if the document is not a JSON object with a `keys`
    /// array. Individual unusable keys are skipped, not errors.
    pub fn parse(document: &[u8]) -> Result<Self, InvalidJwks> {
        let document: Document = serde_json::from_slice(document).map_err(InvalidJwks)?;
        let mut jwks = Self::default();
        for entry in document.keys {
            let Ok(jwk) = Jwk::deserialize(&entry) else {
                let kid = entry.get("kid").and_then(|kid| kid.as_str()).map(str::to_owned);
                jwks.skipped.push(SkippedKey { kid, reason: SkipReason::NotAnObject });
                continue;
            };
            let kid = jwk.kid.clone();
            match jwks.keep(jwk) {
                Ok(key) => jwks.keys.push(key),
                Err(reason) => jwks.skipped.push(SkippedKey { kid, reason }),
            }
        }
        Ok(jwks)
    }

    fn keep(&self, jwk: Jwk) -> Result<RsaKey, SkipReason> {
        match jwk.kty.as_deref() {
            Some("RSA") => {}
            other => return Err(SkipReason::KeyType(other.unwrap_or_default().to_owned())),
        }
        if let Some(usage) = jwk.usage.filter(|usage| usage != "sig") {
            return Err(SkipReason::Use(usage));
        }
        if let Some(alg) = jwk.alg.filter(|alg| alg != "RS256") {
            return Err(SkipReason::Algorithm(alg));
        }
        let kid = jwk.kid.ok_or(SkipReason::MissingKeyId)?;
        let decode = |text: Option<String>| {
            text.and_then(|text| Base64UrlUnpadded::decode_vec(&text).ok())
                .ok_or(SkipReason::InvalidComponents)
        };
        let (n, e) = (decode(jwk.n)?, decode(jwk.e)?);
        let bits = significant_bits(&n);
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(SkipReason::Size(bits));
        }
        if e.is_empty() || e.len() > 8 {
            return Err(SkipReason::InvalidComponents);
        }
        if self.keys.iter().any(|key| key.kid == kid) {
            return Err(SkipReason::DuplicateKeyId);
        }
        Ok(RsaKey { kid, bits, key: DecodingKey::from_rsa_raw_components(&n, &e) })
    }

    /// The key with this `kid`, if it was kept.
    pub(crate) fn key(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.iter().find(|key| key.kid == kid).map(|key| &key.key)
    }

    /// Whether a kept key has this `kid`.
    #[must_use]
    pub fn contains(&self, kid: &str) -> bool {
        self.key(kid).is_some()
    }

    /// The `kid`s of the kept keys, in document order.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|key| key.kid.as_str())
    }

    /// The number of kept keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key was kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys that were skipped, each with its reason, for logging.
    #[must_use]
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }
}

impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<(&str, usize)> = self.keys.iter().map(|key| (key.kid.as_str(), key.bits)).collect();
        f.debug_struct("Jwks").field("keys", &keys).field("skipped", &self.skipped).finish()
    }
}

/// The bit length of a big-endian unsigned integer, leading zeros ignored.
fn significant_bits(bytes: &[u8]) -> usize {
    let Some(first) = bytes.iter().position(|&byte| byte != 0) else { return 0 };
    let rest = bytes.len().saturating_sub(first);
    let top = bytes.get(first).map_or(0, |byte| 8 - byte.leading_zeros() as usize);
    rest.saturating_sub(1).saturating_mul(8).saturating_add(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_ignore_leading_zeros() {
        assert_eq!(significant_bits(&[]), 0);
        assert_eq!(significant_bits(&[0, 0]), 0);
        assert_eq!(significant_bits(&[1]), 1);
        assert_eq!(significant_bits(&[0, 0x80, 0]), 16);
        assert_eq!(significant_bits(&[0x7f; 256]), 2047);
    }
}
