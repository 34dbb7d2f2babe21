//! A JSON Web Key Set (RFC 7517), reduced to the RSA keys that can check RS256.

use core::fmt;
use std::collections::HashMap;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64ct::{Base64UrlUnpadded, Encoding};
use serde::Deserialize;

/// The smallest RSA modulus kept, in bits (NIST SP 800-131A).
pub const MIN_RSA_BITS: usize = 2048;
/// The largest RSA modulus kept, in bits: bigger keys only cost verification time.
pub const MAX_RSA_BITS: usize = 8192;

/// The RS256 signing keys of a JWKS, by `kid`.
///
/// Kept: `kty` `RSA`, `use` `sig` or absent, `alg` `RS256` or absent, a `kid`
/// no other kept key has, a minimally encoded modulus of [`MIN_RSA_BITS`] to
/// [`MAX_RSA_BITS`], and an odd exponent of at least 3 and at most 2^33 - 1
/// (the range aws-lc verifies with). Every other key is skipped, with the
/// reason in [`skipped`](Self::skipped): a key that could never verify is not
/// reported as usable. Two kept keys with one `kid` are both refused, since a
/// token naming it could mean either.
#[derive(Clone, Default)]
pub struct Jwks {
    keys: Vec<RsaKey>,
    skipped: Vec<SkippedKey>,
}

#[derive(Clone)]
struct RsaKey {
    kid: String,
    bits: usize,
    /// Parsed once, for RS256 (PKCS#1 v1.5, SHA-256) only.
    key: ParsedPublicKey,
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
    /// `n` or `e` has leading zero bytes (RFC 7518, section 6.3.1: "the
    /// minimum number of octets").
    NonMinimalEncoding,
    /// `e` is even, below 3 or above 2^33 - 1: no RSA key, or none aws-lc verifies with.
    Exponent,
    /// aws-lc refused the key.
    Rejected,
    /// Another usable key has this `kid`: both are refused.
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
            Self::NonMinimalEncoding => f.write_str("n or e has leading zero bytes"),
            Self::Exponent => f.write_str("e is even, below 3 or above 2^33 - 1"),
            Self::Rejected => f.write_str("not a valid RSA public key"),
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
            match keep(jwk) {
                Ok(key) => jwks.keys.push(key),
                Err(reason) => jwks.skipped.push(SkippedKey { kid, reason }),
            }
        }
        // A `kid` must name one key: with two, which one a token meant is a guess.
        let mut copies: HashMap<String, usize> = HashMap::new();
        for key in &jwks.keys {
            *copies.entry(key.kid.clone()).or_default() += 1;
        }
        let (unique, shared): (Vec<RsaKey>, Vec<RsaKey>) =
            core::mem::take(&mut jwks.keys).into_iter().partition(|key| copies.get(&key.kid) == Some(&1));
        jwks.keys = unique;
        let refused = shared
            .into_iter()
            .map(|key| SkippedKey { kid: Some(key.kid), reason: SkipReason::DuplicateKeyId });
        jwks.skipped.extend(refused);
        Ok(jwks)
    }

    /// The key with this `kid`, if it was kept.
    pub(crate) fn key(&self, kid: &str) -> Option<&ParsedPublicKey> {
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

/// Whether `jwk` can check RS256 tokens, and its parsed key if so.
fn keep(jwk: Jwk) -> Result<RsaKey, SkipReason> {
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
        text.and_then(|text| Base64UrlUnpadded::decode_vec(&text).ok()).ok_or(SkipReason::InvalidComponents)
    };
    let (n, e) = (decode(jwk.n)?, decode(jwk.e)?);
    let bits = significant_bits(&n);
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(SkipReason::Size(bits));
    }
    if n.first() == Some(&0) || e.first() == Some(&0) {
        return Err(SkipReason::NonMinimalEncoding);
    }
    if !exponent_is_usable(&e) {
        return Err(SkipReason::Exponent);
    }
    let key = RsaPublicKeyComponents { n: &n, e: &e }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .map_err(|_| SkipReason::Rejected)?;
    Ok(RsaKey { kid, bits, key })
}

/// An odd `e` from 3 to 2^33 - 1: what aws-lc (as BoringSSL) accepts.
fn exponent_is_usable(e: &[u8]) -> bool {
    if e.is_empty() || e.len() > 5 {
        return false;
    }
    let value = e.iter().fold(0_u64, |value, &byte| (value << 8) | u64::from(byte));
    value >= 3 && value % 2 == 1 && value < (1 << 33)
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
