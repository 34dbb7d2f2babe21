//! Dynamic (per-request) Gemini webhooks: an RS256 JWT in `webhook-signature`,
//! checked against Google's JWKS.
//!
//! Google documents `alg` RS256, a `kid`, and an audience check (Gemini API
//! docs, "Verify dynamic signatures (JWKS)"). It does not document the issuer,
//! the lifetime, or whether the token binds the body, so those are options,
//! and [`BodyBinding`] says what was actually checked.

use core::time::Duration;

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};
use webhook_signature::{Error as CoreError, HeaderName, Headers, Timestamp};

use crate::binding::{BodyBinding, body_binding};
use crate::error::Malformed;
use crate::error::{Claim, Error};
use crate::jwks::Jwks;
use crate::token::{Segments, decode_json};

/// The algorithm every token must name. It comes from here, never from the token.
const ALGORITHM: Algorithm = Algorithm::RS256;

/// Checks dynamic deliveries: the Standard Webhooks headers, then the token.
///
/// Defaults: `exp` required, 60 s leeway on `exp`/`nbf`/`iat`, no maximum
/// age, no issuer check, and `webhook-timestamp` within 5 minutes of `now`.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use webhook_signature_gemini::DynamicVerifier;
/// let verifier = DynamicVerifier::new(["https://example.com/webhooks/gemini"])
///     .with_issuer("https://generativelanguage.googleapis.com")
///     .with_max_age(Duration::from_secs(3600));
/// # let _ = verifier;
/// ```
#[derive(Clone, Debug)]
pub struct DynamicVerifier {
    /// `None` only through [`insecure_accept_any_audience`](Self::insecure_accept_any_audience).
    audiences: Option<Vec<String>>,
    issuers: Vec<String>,
    leeway: Duration,
    max_age: Option<Duration>,
    require_exp: bool,
    require_bound_body: bool,
    tolerance: Option<Duration>,
}

/// A token whose every cheap check passed: only the key lookup and the RSA
/// signature remain. Nothing in it is trusted yet.
#[derive(Debug)]
pub struct Prechecked<'a> {
    segments: Segments<'a>,
    kid: String,
    timestamp: Timestamp,
    require_bound_body: bool,
}

impl Prechecked<'_> {
    /// The `kid` the token names, to find or fetch its key.
    #[must_use]
    pub fn key_id(&self) -> &str {
        &self.kid
    }
}

/// A dynamic delivery whose token verified.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct DynamicVerified {
    /// The `kid` of the JWKS key that verified the token.
    pub kid: String,
    /// The token's claims, verified.
    pub claims: Map<String, Value>,
    /// The `webhook-timestamp` header.
    pub timestamp: Timestamp,
    /// Whether the token authenticates the body, or only the sender.
    pub body: BodyBinding,
}

impl DynamicVerifier {
    /// The default lifetime leeway.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

    /// A verifier accepting tokens whose `aud` contains one of `audiences`.
    /// An empty list accepts no token.
    #[must_use]
    pub fn new<A: Into<String>>(audiences: impl IntoIterator<Item = A>) -> Self {
        Self::with_audiences(Some(audiences.into_iter().map(Into::into).collect()))
    }

    /// A verifier that does not check `aud`, so a token Google minted for
    /// anyone else's endpoint is accepted here too. For tests and inspection only.
    #[must_use]
    pub fn insecure_accept_any_audience() -> Self {
        Self::with_audiences(None)
    }

    fn with_audiences(audiences: Option<Vec<String>>) -> Self {
        Self {
            audiences,
            issuers: Vec::new(),
            leeway: Self::DEFAULT_LEEWAY,
            max_age: None,
            require_exp: true,
            require_bound_body: false,
            tolerance: Some(webhook_signature::DEFAULT_TOLERANCE),
        }
    }

    /// Also accepts tokens for `audience`.
    #[must_use]
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        if let Some(audiences) = &mut self.audiences {
            audiences.push(audience.into());
        }
        self
    }

    /// Requires `iss` to be `issuer` (or one of several, when called again).
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// The clock difference allowed on `exp`, `nbf` and `iat` (default 60 s).
    #[must_use]
    pub fn with_leeway(self, leeway: Duration) -> Self {
        Self { leeway, ..self }
    }

    /// Rejects tokens whose `iat` is older than `max_age` (plus the leeway);
    /// `iat` becomes required.
    #[must_use]
    pub fn with_max_age(self, max_age: Duration) -> Self {
        Self { max_age: Some(max_age), ..self }
    }

    /// Accepts tokens without `exp`, which is only safe with a maximum age on
    /// `iat`: so this takes one.
    #[must_use]
    pub fn allow_missing_exp(self, max_age: Duration) -> Self {
        Self { require_exp: false, max_age: Some(max_age), ..self }
    }

    /// Rejects tokens that do not bind the body ([`Error::BodyNotBound`]), for
    /// when the sender documents a claim that does. Without it, such a token
    /// is accepted as [`BodyBinding::BearerToken`].
    #[must_use]
    pub fn require_bound_body(self) -> Self {
        Self { require_bound_body: true, ..self }
    }

    /// The window for `webhook-timestamp` (default 5 minutes, as on the static path).
    #[must_use]
    pub fn with_tolerance(self, tolerance: Duration) -> Self {
        Self { tolerance: Some(tolerance), ..self }
    }

    /// Does not check `webhook-timestamp` against `now` (it must still be present
    /// and well-formed), e.g. to replay stored deliveries.
    #[must_use]
    pub fn without_timestamp_window(self) -> Self {
        Self { tolerance: None, ..self }
    }

    /// Every check that needs no key: the headers, the token's length, shape,
    /// `alg`, `crit`, `kid` and claims. No RSA work is done here.
    ///
    /// # Errors
    /// Any [`Error`] but [`Error::UnknownKeyId`] and [`Error::BadSignature`].
    pub fn precheck<'a>(&self, headers: &Headers<'a>, now: Timestamp) -> Result<Prechecked<'a>, Error> {
        let timestamp = self.check_headers(headers, now)?;
        let segments = Segments::split(headers.signature)?;
        let header: JoseHeader = decode_json(segments.header, Malformed::Header)?;
        if header.alg.as_ref().and_then(Value::as_str) != Some("RS256") {
            return Err(Error::UnsupportedAlgorithm);
        }
        if header.crit.is_some() {
            return Err(Error::CriticalHeader);
        }
        let kid = match header.kid {
            None => return Err(Error::MissingKeyId),
            Some(Value::String(kid)) => kid,
            Some(_) => return Err(Error::MalformedToken(Malformed::Header)),
        };
        self.check_claims(&decode_json(segments.claims, Malformed::Claims)?, now)?;
        Ok(Prechecked { segments, kid, timestamp, require_bound_body: self.require_bound_body })
    }

    /// The `webhook-timestamp` checks alone (present, well-formed, within the
    /// window): what a streaming receiver checks before `Content-Length`.
    ///
    /// # Errors
    /// [`Error::Webhook`].
    pub fn check_timestamp(&self, headers: &Headers<'_>, now: Timestamp) -> Result<Timestamp, Error> {
        self.check_headers(headers, now)
    }

    /// Verifies a dynamic delivery against `jwks`: [`precheck`](Self::precheck),
    /// then the RS256 signature, then whether the token binds `body`.
    ///
    /// # Errors
    /// Any [`Error`] of a dynamic delivery.
    pub fn verify(
        &self,
        headers: &Headers<'_>,
        body: &[u8],
        now: Timestamp,
        jwks: &Jwks,
    ) -> Result<DynamicVerified, Error> {
        self.precheck(headers, now)?.finish(body, jwks)
    }

    fn check_headers(&self, headers: &Headers<'_>, now: Timestamp) -> Result<Timestamp, Error> {
        // The same header rules as the static path: dedupe needs the id, and
        // the timestamp bounds replays even if the token lives longer.
        if headers.id.is_empty() {
            return Err(CoreError::MissingHeader(HeaderName::Id).into());
        }
        if headers.timestamp.is_empty() {
            return Err(CoreError::MissingHeader(HeaderName::Timestamp).into());
        }
        let timestamp = Timestamp::parse(headers.timestamp)?;
        if let Some(tolerance) = self.tolerance {
            timestamp.check_window(now, tolerance)?;
        }
        Ok(timestamp)
    }

    fn check_claims(&self, claims: &Registered, now: Timestamp) -> Result<(), Error> {
        let now = now.as_unix_secs();
        let leeway = self.leeway.as_secs();
        match numeric_date(claims.exp.as_ref(), Claim::Exp)? {
            Some(exp) if now > exp.saturating_add(leeway) => return Err(Error::Expired),
            None if self.require_exp => return Err(Error::MissingClaim(Claim::Exp)),
            _ => {}
        }
        if numeric_date(claims.nbf.as_ref(), Claim::Nbf)?.is_some_and(|nbf| nbf > now.saturating_add(leeway))
        {
            return Err(Error::NotYetValid);
        }
        let iat = numeric_date(claims.iat.as_ref(), Claim::Iat)?;
        if iat.is_some_and(|iat| iat > now.saturating_add(leeway)) {
            return Err(Error::IssuedInFuture);
        }
        if let Some(max_age) = self.max_age {
            let iat = iat.ok_or(Error::MissingClaim(Claim::Iat))?;
            if now > iat.saturating_add(max_age.as_secs()).saturating_add(leeway) {
                return Err(Error::TokenTooOld);
            }
        }
        if let Some(audiences) = &self.audiences {
            let accepted = |aud: &str| audiences.iter().any(|accepted| accepted == aud);
            let matched = match &claims.aud {
                None => return Err(Error::MissingClaim(Claim::Aud)),
                Some(Value::String(aud)) => accepted(aud),
                Some(Value::Array(list)) => {
                    let mut matched = false;
                    for aud in list {
                        matched |= accepted(aud.as_str().ok_or(Error::InvalidClaim(Claim::Aud))?);
                    }
                    matched
                }
                Some(_) => return Err(Error::InvalidClaim(Claim::Aud)),
            };
            if !matched {
                return Err(Error::WrongAudience);
            }
        }
        if !self.issuers.is_empty() {
            match &claims.iss {
                None => return Err(Error::MissingClaim(Claim::Iss)),
                Some(Value::String(iss)) if self.issuers.contains(iss) => {}
                Some(Value::String(_)) => return Err(Error::WrongIssuer),
                Some(_) => return Err(Error::InvalidClaim(Claim::Iss)),
            }
        }
        Ok(())
    }
}

impl<'a> Prechecked<'a> {
    /// The key lookup, the RS256 signature, then the body binding.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`], [`Error::BadSignature`], [`Error::BodyMismatch`]
    /// or [`Error::BodyNotBound`].
    pub fn finish(self, body: &[u8], jwks: &Jwks) -> Result<DynamicVerified, Error> {
        self.verify_signature(jwks)?.bind(body)
    }

    /// The key lookup and the RS256 signature, which need no body: a
    /// streaming receiver rejects a forged token before reading the body.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`] or [`Error::BadSignature`].
    pub fn verify_signature(self, jwks: &Jwks) -> Result<SignedToken, Error> {
        let key = jwks.key(&self.kid).ok_or(Error::UnknownKeyId)?;
        let valid = jsonwebtoken::crypto::verify(
            self.segments.signature,
            self.segments.signing_input.as_bytes(),
            key,
            ALGORITHM,
        );
        if !matches!(valid, Ok(true)) {
            return Err(Error::BadSignature);
        }
        // Only now are the claims trusted, and read in full.
        let claims: Map<String, Value> = decode_json(self.segments.claims, Malformed::Claims)?;
        Ok(SignedToken {
            kid: self.kid,
            claims,
            timestamp: self.timestamp,
            require_bound_body: self.require_bound_body,
        })
    }
}

/// A token whose signature verified; what it says about the body is decided
/// by [`bind`](Self::bind) once the body is there.
#[derive(Debug, Clone)]
pub struct SignedToken {
    kid: String,
    claims: Map<String, Value>,
    timestamp: Timestamp,
    require_bound_body: bool,
}

impl SignedToken {
    /// Decides whether the token binds `body`.
    ///
    /// # Errors
    /// [`Error::BodyMismatch`] if a body digest claim names another body;
    /// [`Error::BodyNotBound`] if no claim binds it and the verifier requires one.
    pub fn bind(self, body: &[u8]) -> Result<DynamicVerified, Error> {
        let binding = body_binding(&self.claims, body)?;
        if self.require_bound_body && !binding.is_bound() {
            return Err(Error::BodyNotBound);
        }
        Ok(DynamicVerified { kid: self.kid, claims: self.claims, timestamp: self.timestamp, body: binding })
    }
}

/// The JOSE header members checked before any key is used. Other members
/// are skipped without being stored.
#[derive(Deserialize)]
struct JoseHeader {
    alg: Option<Value>,
    kid: Option<Value>,
    crit: Option<IgnoredAny>,
}

/// The registered claims checked before any key is used; the others are
/// skipped without being stored (a large claim costs a scan, no allocation).
#[derive(Deserialize)]
struct Registered {
    exp: Option<Value>,
    nbf: Option<Value>,
    iat: Option<Value>,
    aud: Option<Value>,
    iss: Option<Value>,
}

/// A NumericDate claim (RFC 7519, section 2): seconds, possibly fractional.
/// Fractions are truncated; dates before 1970 count as 0.
fn numeric_date(value: Option<&Value>, claim: Claim) -> Result<Option<u64>, Error> {
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
