//! Why a Gemini delivery was rejected.

use core::fmt;

/// Why a delivery, a token or a JWKS was rejected.
///
/// Every check has its own variant, so a log line says exactly what failed.
/// None of them carries the secret, and none says which candidate failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A header, timestamp or static (`v1`/`v1a`) signature check of the core failed.
    Webhook(webhook_signature::Error),
    /// A dynamic (JWT) delivery arrived, but no audience is configured for that mode.
    DynamicNotConfigured,
    /// The token is longer than [`MAX_TOKEN_LEN`](crate::token::MAX_TOKEN_LEN); nothing of it was parsed.
    TokenTooLong,
    /// The token is not three base64url segments of a JSON header, JSON claims and a signature.
    MalformedToken(Malformed),
    /// The token's `alg` is not `RS256` (`none`, `HS256`, `RS512`, `PS256`, `ES256`, …).
    UnsupportedAlgorithm,
    /// The token's header has a `crit` member (even `null`), which this verifier does not implement.
    CriticalHeader,
    /// The token's header has no `kid`.
    MissingKeyId,
    /// No kept key of the JWKS has the token's `kid`.
    UnknownKeyId,
    /// No JWKS could be loaded (the first fetch failed, or the last good one is too old).
    KeysUnavailable,
    /// A claim the configuration requires is absent.
    MissingClaim(Claim),
    /// A claim has the wrong JSON type (`exp` as a string, `aud` as a number, …).
    InvalidClaim(Claim),
    /// `exp` is more than the leeway in the past.
    Expired,
    /// `nbf` is more than the leeway in the future.
    NotYetValid,
    /// `iat` is more than the leeway in the future.
    IssuedInFuture,
    /// `iat` is older than the configured maximum token age.
    TokenTooOld,
    /// `aud` names none of the configured audiences.
    WrongAudience,
    /// `iss` is not the configured issuer.
    WrongIssuer,
    /// The RS256 signature does not verify with the key named by `kid`.
    BadSignature,
    /// A claim named as a digest of the body ([`BODY_DIGEST_CLAIMS`](crate::BODY_DIGEST_CLAIMS))
    /// does not match the body: the token was made for another body.
    BodyMismatch,
    /// A verified claim does not meet a requirement
    /// ([`DynamicVerifier::require_claim`](crate::DynamicVerifier::require_claim),
    /// [`DynamicVerifier::with_claims_check`](crate::DynamicVerifier::with_claims_check)).
    ClaimNotAccepted,
    /// The token does not bind the body, and the verifier requires it
    /// ([`DynamicVerifier::require_bound_body`](crate::DynamicVerifier::require_bound_body)).
    BodyNotBound,
}

/// Which part of a compact JWS is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Malformed {
    /// Not exactly three `.`-separated segments.
    Segments,
    /// A segment is not canonical unpadded base64url.
    Base64,
    /// The header is not a JSON object, or a member has the wrong type.
    Header,
    /// The claims are not a JSON object.
    Claims,
}

/// A registered JWT claim (RFC 7519, section 4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Claim {
    /// `exp`, the expiration time.
    Exp,
    /// `nbf`, not before.
    Nbf,
    /// `iat`, issued at.
    Iat,
    /// `aud`, the audience.
    Aud,
    /// `iss`, the issuer.
    Iss,
    /// `jti`, the token's id.
    Jti,
}

impl Claim {
    /// The claim's name in the token.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Exp => "exp",
            Self::Nbf => "nbf",
            Self::Iat => "iat",
            Self::Aud => "aud",
            Self::Iss => "iss",
            Self::Jti => "jti",
        }
    }
}

impl Error {
    /// A short, stable identifier of the variant, for logs and metrics.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Webhook(_) => "Webhook",
            Self::DynamicNotConfigured => "DynamicNotConfigured",
            Self::TokenTooLong => "TokenTooLong",
            Self::MalformedToken(_) => "MalformedToken",
            Self::UnsupportedAlgorithm => "UnsupportedAlgorithm",
            Self::CriticalHeader => "CriticalHeader",
            Self::MissingKeyId => "MissingKeyId",
            Self::UnknownKeyId => "UnknownKeyId",
            Self::KeysUnavailable => "KeysUnavailable",
            Self::MissingClaim(_) => "MissingClaim",
            Self::InvalidClaim(_) => "InvalidClaim",
            Self::Expired => "Expired",
            Self::NotYetValid => "NotYetValid",
            Self::IssuedInFuture => "IssuedInFuture",
            Self::TokenTooOld => "TokenTooOld",
            Self::WrongAudience => "WrongAudience",
            Self::WrongIssuer => "WrongIssuer",
            Self::BadSignature => "BadSignature",
            Self::BodyMismatch => "BodyMismatch",
            Self::ClaimNotAccepted => "ClaimNotAccepted",
            Self::BodyNotBound => "BodyNotBound",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Webhook(error) => fmt::Display::fmt(error, f),
            Self::DynamicNotConfigured => {
                f.write_str("dynamic (JWT) delivery, but no audience is configured")
            }
            Self::TokenTooLong => f.write_str("token too long"),
            Self::MalformedToken(Malformed::Segments) => f.write_str("malformed token: not three segments"),
            Self::MalformedToken(Malformed::Base64) => f.write_str("malformed token: invalid base64url"),
            Self::MalformedToken(Malformed::Header) => f.write_str("malformed token: invalid header"),
            Self::MalformedToken(Malformed::Claims) => f.write_str("malformed token: invalid claims"),
            Self::UnsupportedAlgorithm => f.write_str("token algorithm is not RS256"),
            Self::CriticalHeader => f.write_str("token has a crit header"),
            Self::MissingKeyId => f.write_str("token has no kid"),
            Self::UnknownKeyId => f.write_str("token kid names no known key"),
            Self::KeysUnavailable => f.write_str("no JWKS available"),
            Self::MissingClaim(claim) => write!(f, "token lacks the {} claim", claim.as_str()),
            Self::InvalidClaim(claim) => write!(f, "token has an invalid {} claim", claim.as_str()),
            Self::Expired => f.write_str("token expired"),
            Self::NotYetValid => f.write_str("token not yet valid"),
            Self::IssuedInFuture => f.write_str("token issued in the future"),
            Self::TokenTooOld => f.write_str("token too old"),
            Self::WrongAudience => f.write_str("token audience not accepted"),
            Self::WrongIssuer => f.write_str("token issuer not accepted"),
            Self::BadSignature => f.write_str("token signature does not verify"),
            Self::BodyMismatch => f.write_str("token's body digest claim does not match the body"),
            Self::ClaimNotAccepted => f.write_str("token claims do not meet a requirement"),
            Self::BodyNotBound => f.write_str("token does not bind the body, and a bound body is required"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Webhook(error) => Some(error),
            _ => None,
        }
    }
}

impl From<webhook_signature::Error> for Error {
    fn from(error: webhook_signature::Error) -> Self {
        Self::Webhook(error)
    }
}
