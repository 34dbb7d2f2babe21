//! Compact JWS parsing (RFC 7515, section 7.1): three base64url segments.
//! Nothing here is trusted: [`DynamicVerifier`](crate::DynamicVerifier)
//! checks the signature before any claim is believed.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny};
use serde_json::{Map, Value};

use crate::error::{Claim, Error, Malformed};

/// The longest token parsed, in bytes: RS256 tokens are well under 2 KiB.
/// The length is checked before anything else.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Whether a `webhook-signature` value has the shape of a compact JWS: three
/// `.`-separated segments of base64url characters. `v1,…` entries contain a
/// `,` and never match. Any length matches, so an oversized token is rejected
/// as [`Error::TokenTooLong`] rather than mistaken for a static signature.
///
/// # Examples
/// ```
/// use webhook_signature_gemini::token::is_compact_jws;
/// assert!(is_compact_jws("eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln"));
/// assert!(!is_compact_jws("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
/// ```
#[must_use]
pub fn is_compact_jws(value: &str) -> bool {
    let mut dots = 0_usize;
    for byte in value.bytes() {
        match byte {
            b'.' => dots = dots.saturating_add(1),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => {}
            _ => return false,
        }
    }
    dots == 2 && !value.starts_with('.')
}

/// The three segments of a compact JWS, not decoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segments<'a> {
    pub(crate) header: &'a str,
    pub(crate) claims: &'a str,
    /// `header.claims`, the bytes the signature covers.
    pub(crate) signing_input: &'a str,
    pub(crate) signature: &'a str,
}

impl<'a> Segments<'a> {
    /// Splits `token` after checking its length, and nothing else.
    pub(crate) fn split(token: &'a str) -> Result<Self, Error> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(Error::TokenTooLong);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::MalformedToken(Malformed::Segments));
        };
        let signing_input =
            token.get(..header.len().saturating_add(1).saturating_add(claims.len())).unwrap_or("");
        Ok(Self { header, claims, signing_input, signature })
    }
}

/// A compact JWS split and decoded, **not verified**: its header and claims
/// are whatever the sender wrote. For inspection; verification uses
/// [`DynamicVerifier`](crate::DynamicVerifier).
#[derive(Debug, Clone)]
pub struct UnverifiedToken {
    /// The JOSE header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
}

impl UnverifiedToken {
    /// Splits and decodes `token`, checking its length first.
    ///
    /// # Errors
    /// [`Error::TokenTooLong`] or [`Error::MalformedToken`].
    pub fn parse(token: &str) -> Result<Self, Error> {
        let segments = Segments::split(token)?;
        if URL_SAFE_NO_PAD.decode(segments.signature).is_err() {
            return Err(Error::MalformedToken(Malformed::Base64));
        }
        Ok(Self {
            header: decode_json(segments.header, Malformed::Header)?,
            claims: decode_json(segments.claims, Malformed::Claims)?,
        })
    }

    /// The header's `alg`, if it is a string.
    #[must_use]
    pub fn algorithm(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// The header's `kid`, if it is a string.
    #[must_use]
    pub fn key_id(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

/// Decodes one base64url segment holding a JSON object into `T`.
///
/// The header and the claims must be JSON objects (RFC 7515, section 4;
/// RFC 7519, section 7.2), and a derived `Deserialize` also reads a struct
/// from an array, by position: so anything but an object is refused first.
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(
    segment: &str,
    part: Malformed,
) -> Result<T, Error> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| Error::MalformedToken(Malformed::Base64))?;
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(Error::MalformedToken(part));
    }
    serde_json::from_slice(&bytes).map_err(|_| Error::MalformedToken(part))
}

/// The JOSE header members checked before any key is used. Other members
/// are skipped without being stored.
#[derive(Deserialize)]
pub(crate) struct JoseHeader {
    pub(crate) alg: Option<Value>,
    pub(crate) kid: Option<Value>,
    #[serde(default)]
    pub(crate) crit: Present,
}

/// Whether a member is present, whatever its value, `null` included (an
/// `Option` would read `null` as absent).
#[derive(Default)]
pub(crate) struct Present(pub(crate) bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| Self(true))
    }
}

/// The registered claims checked before any key is used; the others are
/// skipped without being stored (a large claim costs a scan, no allocation).
#[derive(Deserialize)]
pub(crate) struct Registered {
    pub(crate) exp: Option<Value>,
    pub(crate) nbf: Option<Value>,
    pub(crate) iat: Option<Value>,
    pub(crate) aud: Option<Value>,
    pub(crate) iss: Option<Value>,
    pub(crate) jti: Option<Value>,
}

/// A NumericDate claim (RFC 7519, section 2): seconds, possibly fractional.
/// Fractions are truncated; dates before 1970 count as 0.
pub(crate) fn numeric_date(value: Option<&Value>, claim: Claim) -> Result<Option<u64>, Error> {
    let Some(value) = value else { return Ok(None) };
    let Value::Number(number) = value else { return Err(Error::InvalidClaim(claim)) };
    if let Some(secs) = number.as_u64() {
        return Ok(Some(secs));
    }
    if number.as_i64().is_some() {
        return Ok(Some(0));
    }
    match number.as_f64() {
        // `as` saturates: a huge date becomes u64::MAX, a negative one 0.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(secs) if secs.is_finite() => Ok(Some(secs as u64)),
        _ => Err(Error::InvalidClaim(claim)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape() {
        assert!(is_compact_jws("a.b.c"));
        assert!(is_compact_jws("a.b."), "alg none has an empty signature: it must reach the JWT path");
        assert!(!is_compact_jws(".b.c"));
        assert!(!is_compact_jws("a.b"));
        assert!(!is_compact_jws("a.b.c.d"));
        assert!(!is_compact_jws("a.b.c d"));
        assert!(!is_compact_jws("v1,abc"));
        assert!(!is_compact_jws("a.b+.c"), "standard base64 is not base64url");
        assert!(!is_compact_jws(""));
    }

    #[test]
    fn length_checked_first() {
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(UnverifiedToken::parse(&long).err(), Some(Error::TokenTooLong));
    }

    #[test]
    fn malformed() {
        let bad = |token: &str| UnverifiedToken::parse(token).err();
        assert_eq!(bad("a.b"), Some(Error::MalformedToken(Malformed::Segments)));
        assert_eq!(bad("a.b.c.d"), Some(Error::MalformedToken(Malformed::Segments)));
        assert_eq!(bad("e30=.e30.c2ln"), Some(Error::MalformedToken(Malformed::Base64)));
        assert_eq!(
            bad("W10.e30.c2ln"),
            Some(Error::MalformedToken(Malformed::Header)),
            "[] is not an object"
        );
        assert_eq!(bad("e30.bnVsbA.c2ln"), Some(Error::MalformedToken(Malformed::Claims)), "null");
        assert!(UnverifiedToken::parse("e30.e30.c2ln").is_ok());
    }
}
