//! Dynamic (per-request) Gemini webhooks: an RS256 JWT in `webhook-signature`,
//! checked against Google's JWKS.
//!
//! Google documents `alg` RS256, a `kid`, and an audience check (Gemini API
//! docs, "Verify dynamic signatures (JWKS)"). It does not document the issuer,
//! the lifetime, or whether the token binds the body, so those are options,
//! and [`BodyBinding`] says what was actually checked.

use core::time::Duration;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use webhook_signature::{Error as CoreError, HeaderName, Headers, Timestamp};

use crate::binding::{BodyBinding, BodyClaims, body_binding};
use crate::error::Malformed;
use crate::error::{Claim, Error};
use crate::jwks::Jwks;
use crate::replay::{ReplayKey, ReplaySource};
use crate::requirement::Requirement;
use crate::token::{JoseHeader, Registered, Segments, decode_json, numeric_date};

/// Checks dynamic deliveries: the Standard Webhooks headers, then the token.
///
/// Defaults: `exp` required, 60 s leeway on `exp`/`nbf`/`iat`, an `iat` (if
/// present) at most [`DEFAULT_MAX_AGE`](Self::DEFAULT_MAX_AGE) old, no issuer
/// check, no other claim required, and `webhook-timestamp` within 5 minutes
/// of `now`.
///
/// # What a verified dynamic delivery proves, and what it does not
/// - **Proved**: Google signed this token with a key of its JWKS, for one of
///   your audiences, and it is within its lifetime. Every claim you required
///   ([`require_claim`](Self::require_claim),
///   [`with_claims_check`](Self::with_claims_check)) holds.
/// - **Proved only if a claim binds it** ([`BodyBinding::Bound`]): the body.
///   Otherwise anyone who saw one delivery can send its token with any body
///   until it expires ([`BodyBinding::BearerToken`]).
/// - **Not proved**: `webhook-id` and `webhook-timestamp` (the token signs
///   neither, so a resent delivery verifies under a new id with a fresh
///   timestamp: deduplicate on [`DynamicVerified::replay_key`]), and that you
///   created the job: anyone with a Gemini API key can point a job at your
///   URL. Bind jobs to yourself with a
///   [`JobCapabilities`](crate::JobCapabilities) capability in the URI.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use webhook_signature_gemini::DynamicVerifier;
/// let verifier = DynamicVerifier::new(["https://example.com/webhooks/gemini"])
///     .with_issuer("https://generativelanguage.googleapis.com")
///     .with_max_age(Duration::from_secs(3600))
///     .require_claim("email", "service@example.iam.gserviceaccount.com");
/// # let _ = verifier;
/// ```
#[derive(Clone, Debug)]
pub struct DynamicVerifier {
    /// `None` only through [`insecure_accept_any_audience`](Self::insecure_accept_any_audience).
    audiences: Option<Vec<String>>,
    /// Audiences accepted with a path or query after them.
    audience_prefixes: Vec<String>,
    issuers: Vec<String>,
    leeway: Duration,
    max_age: Option<Duration>,
    require_iat: bool,
    require_exp: bool,
    tolerance: Option<Duration>,
    /// What is checked once the claims are trusted; shared with each token in flight.
    after_signature: Arc<AfterSignature>,
}

/// The checks on verified claims and on the body.
#[derive(Clone, Debug, Default)]
struct AfterSignature {
    requirements: Vec<Requirement>,
    body_claims: BodyClaims,
    require_bound_body: bool,
}

/// A token whose every cheap check passed: only the key lookup and the RSA
/// signature remain. Nothing in it is trusted yet.
#[derive(Debug)]
pub struct Prechecked<'a> {
    segments: Segments<'a>,
    kid: String,
    timestamp: Timestamp,
    after_signature: Arc<AfterSignature>,
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
    /// The `webhook-timestamp` header (not signed by the token).
    pub timestamp: Timestamp,
    /// Whether the token authenticates the body, or only the sender.
    pub body: BodyBinding,
    /// What identifies this delivery when it is sent again under another
    /// `webhook-id`: see [`ReplayKey`].
    pub replay_key: ReplayKey,
    /// What [`replay_key`](Self::replay_key) was derived from.
    pub replay_source: ReplaySource,
}

impl DynamicVerifier {
    /// The default lifetime leeway.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
    /// The default maximum age of a token by its `iat`: 24 hours, as long
    /// as Gemini retries a delivery.
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

    /// A verifier accepting tokens whose `aud` contains one of `audiences`.
    /// An empty list accepts no token (unless [`with_audience_prefix`](Self::with_audience_prefix) adds some).
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
            audience_prefixes: Vec::new(),
            issuers: Vec::new(),
            leeway: Self::DEFAULT_LEEWAY,
            max_age: Some(Self::DEFAULT_MAX_AGE),
            require_iat: false,
            require_exp: true,
            tolerance: Some(webhook_signature::DEFAULT_TOLERANCE),
            after_signature: Arc::default(),
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

    /// Also accepts tokens whose `aud` is `base` followed by `/` or `?` and
    /// anything (or `base` itself): per-job webhook URIs under one endpoint,
    /// such as `…/webhooks/gemini/<capability>` or `…?t=<capability>`, if the
    /// sender puts the whole URI in `aud`. The next character must be `/` or
    /// `?`, so `https://you.example` does not accept
    /// `https://you.example.evil.com`. Check the capability itself with
    /// [`JobCapabilities`](crate::JobCapabilities).
    #[must_use]
    pub fn with_audience_prefix(mut self, base: impl Into<String>) -> Self {
        if self.audiences.is_some() {
            self.audience_prefixes.push(base.into());
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
    /// `iat` becomes required. Without it, an `iat` older than
    /// [`DEFAULT_MAX_AGE`](Self::DEFAULT_MAX_AGE) is rejected, and a token
    /// without `iat` is not.
    #[must_use]
    pub fn with_max_age(self, max_age: Duration) -> Self {
        Self { max_age: Some(max_age), require_iat: true, ..self }
    }

    /// Does not bound a token's age by its `iat`: only `exp` limits how long a
    /// captured token can be resent.
    #[must_use]
    pub fn without_max_age(self) -> Self {
        Self { max_age: None, require_iat: false, ..self }
    }

    /// Accepts tokens without `exp`, which is only safe with a maximum age on
    /// `iat`: so this takes one.
    #[must_use]
    pub fn allow_missing_exp(self, max_age: Duration) -> Self {
        Self { require_exp: false, ..self.with_max_age(max_age) }
    }

    /// Requires the verified claim `name` to equal `value` (JSON equality:
    /// `"1"` is not `1`), e.g. the service account Google signs for. Called
    /// again, every requirement must hold. A token without the claim, or with
    /// another value, is [`Error::ClaimNotAccepted`].
    #[must_use]
    pub fn require_claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        Arc::make_mut(&mut self.after_signature)
            .requirements
            .push(Requirement::Equals { name: name.into(), value: value.into() });
        self
    }

    /// Requires `check` to accept the verified claims; it runs after the
    /// signature and every other claim check, never on an unverified token.
    /// A `false` is [`Error::ClaimNotAccepted`].
    ///
    /// # Examples
    /// ```
    /// use webhook_signature_gemini::DynamicVerifier;
    /// let verifier = DynamicVerifier::new(["https://example.com/webhooks/gemini"])
    ///     .with_claims_check(|claims| claims.get("email_verified") == Some(&true.into()));
    /// # let _ = verifier;
    /// ```
    #[must_use]
    pub fn with_claims_check(
        mut self,
        check: impl Fn(&Map<String, Value>) -> bool + Send + Sync + 'static,
    ) -> Self {
        Arc::make_mut(&mut self.after_signature).requirements.push(Requirement::Check(Arc::new(check)));
        self
    }

    /// Rejects tokens that do not bind the body ([`Error::BodyNotBound`]), for
    /// when the sender documents a claim that does. Without it, such a token
    /// is accepted as [`BodyBinding::BearerToken`]. The binding claims are
    /// [`BODY_DIGEST_CLAIMS`](crate::BODY_DIGEST_CLAIMS) and
    /// [`EMBEDDED_EVENT_CLAIMS`](crate::EMBEDDED_EVENT_CLAIMS).
    #[must_use]
    pub fn require_bound_body(mut self) -> Self {
        Arc::make_mut(&mut self.after_signature).require_bound_body = true;
        self
    }

    /// [`require_bound_body`](Self::require_bound_body), with only the claims
    /// named in `claims` binding the body (compared without case and without
    /// `_`, `-` and `.`; `parent.member` names a member of an object claim).
    /// Such a claim binds as the SHA-256 of the raw body (base64url, base64 or
    /// hex) if it is a string, or as the embedded event if it is an object; a
    /// string that is not this body's digest is [`Error::BodyMismatch`].
    #[must_use]
    pub fn require_body_bound_by<S: Into<String>>(mut self, claims: impl IntoIterator<Item = S>) -> Self {
        let after_signature = Arc::make_mut(&mut self.after_signature);
        after_signature.body_claims = BodyClaims::only(claims);
        after_signature.require_bound_body = true;
        self
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
    /// `alg`, `crit`, `kid` and registered claims. No RSA work is done here.
    ///
    /// # Errors
    /// Any [`Error`] but [`Error::UnknownKeyId`], [`Error::BadSignature`],
    /// [`Error::ClaimNotAccepted`] and the body's errors.
    pub fn precheck<'a>(&self, headers: &Headers<'a>, now: Timestamp) -> Result<Prechecked<'a>, Error> {
        let timestamp = self.check_headers(headers, now)?;
        let segments = Segments::split(headers.signature)?;
        let header: JoseHeader = decode_json(segments.header, Malformed::Header)?;
        if header.alg.as_ref().and_then(Value::as_str) != Some("RS256") {
            return Err(Error::UnsupportedAlgorithm);
        }
        // RFC 7515, section 4.1.11: `crit` "MUST NOT" be null or empty, and
        // none of its extensions is implemented here: present is refused.
        if header.crit.0 {
            return Err(Error::CriticalHeader);
        }
        let kid = match header.kid {
            None => return Err(Error::MissingKeyId),
            Some(Value::String(kid)) => kid,
            Some(_) => return Err(Error::MalformedToken(Malformed::Header)),
        };
        self.check_claims(&decode_json(segments.claims, Malformed::Claims)?, now)?;
        Ok(Prechecked { segments, kid, timestamp, after_signature: Arc::clone(&self.after_signature) })
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
    /// then the RS256 signature and the required claims, then whether the
    /// token binds `body`.
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
        // The same header rules as the static path: dedupe needs the id. The
        // token signs neither header, so the window bounds only a delivery
        // that is not resent with a fresh timestamp: the replay key is what
        // recognises a resent one.
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
            match iat {
                Some(iat) if now > iat.saturating_add(max_age.as_secs()).saturating_add(leeway) => {
                    return Err(Error::TokenTooOld);
                }
                None if self.require_iat => return Err(Error::MissingClaim(Claim::Iat)),
                _ => {}
            }
        }
        // RFC 7519, section 4.1.7: a case-sensitive string. An empty one would
        // make every such token one replay key.
        match &claims.jti {
            None => {}
            Some(Value::String(jti)) if !jti.is_empty() => {}
            Some(_) => return Err(Error::InvalidClaim(Claim::Jti)),
        }
        if let Some(audiences) = &self.audiences {
            let under = |aud: &str, base: &str| {
                aud.strip_prefix(base).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
            };
            let accepted = |aud: &str| {
                audiences.iter().any(|accepted| accepted == aud)
                    || self.audience_prefixes.iter().any(|base| under(aud, base))
            };
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
        match &claims.iss {
            None if !self.issuers.is_empty() => Err(Error::MissingClaim(Claim::Iss)),
            None => Ok(()),
            Some(Value::String(iss)) if self.issuers.is_empty() || self.issuers.contains(iss) => Ok(()),
            Some(Value::String(_)) => Err(Error::WrongIssuer),
            // The replay key reads `iss` as a string.
            Some(_) => Err(Error::InvalidClaim(Claim::Iss)),
        }
    }
}

impl<'a> Prechecked<'a> {
    /// The key lookup, the RS256 signature, the required claims, then the body binding.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`], [`Error::BadSignature`],
    /// [`Error::ClaimNotAccepted`], [`Error::BodyMismatch`] or
    /// [`Error::BodyNotBound`].
    pub fn finish(self, body: &[u8], jwks: &Jwks) -> Result<DynamicVerified, Error> {
        self.verify_signature(jwks)?.bind(body)
    }

    /// The key lookup, the RS256 signature and the required claims, which
    /// need no body: a streaming receiver rejects a forged token before
    /// reading the body.
    ///
    /// RS256 is verified by aws-lc-rs directly (PKCS#1 v1.5 with SHA-256,
    /// 2048 to 8192-bit keys), so no process-wide crypto provider (such as
    /// jsonwebtoken's, which another crate of the binary can replace or make
    /// ambiguous) decides the result.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`], [`Error::BadSignature`] or [`Error::ClaimNotAccepted`].
    pub fn verify_signature(self, jwks: &Jwks) -> Result<SignedToken, Error> {
        let key = jwks.key(&self.kid).ok_or(Error::UnknownKeyId)?;
        let signature = URL_SAFE_NO_PAD.decode(self.segments.signature).map_err(|_| Error::BadSignature)?;
        key.verify_sig(self.segments.signing_input.as_bytes(), &signature)
            .map_err(|_| Error::BadSignature)?;
        // Only now are the claims trusted, and read in full.
        let claims: Map<String, Value> = decode_json(self.segments.claims, Malformed::Claims)?;
        if !self.after_signature.requirements.iter().all(|requirement| requirement.holds(&claims)) {
            return Err(Error::ClaimNotAccepted);
        }
        let replay = match claims.get("jti").and_then(Value::as_str) {
            Some(jti) => {
                Replay::TokenId(ReplayKey::from_token_id(claims.get("iss").and_then(Value::as_str), jti))
            }
            None => Replay::Signature(signature),
        };
        Ok(SignedToken {
            kid: self.kid,
            claims,
            timestamp: self.timestamp,
            replay,
            after_signature: self.after_signature,
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
    replay: Replay,
    after_signature: Arc<AfterSignature>,
}

/// The replay key, or what it still needs the body for.
#[derive(Debug, Clone)]
enum Replay {
    TokenId(ReplayKey),
    /// The decoded RS256 signature.
    Signature(Vec<u8>),
}

impl SignedToken {
    /// Decides whether the token binds `body`, and the delivery's replay key.
    ///
    /// # Errors
    /// [`Error::BodyMismatch`] if a body digest claim names another body;
    /// [`Error::BodyNotBound`] if no claim binds it and the verifier requires one.
    pub fn bind(self, body: &[u8]) -> Result<DynamicVerified, Error> {
        let digest: [u8; 32] = Sha256::digest(body).into();
        let after_signature = &self.after_signature;
        let binding = body_binding(&self.claims, body, &digest, &after_signature.body_claims)?;
        if after_signature.require_bound_body && !binding.is_bound() {
            return Err(Error::BodyNotBound);
        }
        let (replay_key, replay_source) = match &self.replay {
            Replay::TokenId(key) => (*key, ReplaySource::TokenId),
            Replay::Signature(signature) if binding.is_bound() => {
                (ReplayKey::from_signature(signature), ReplaySource::Signature)
            }
            Replay::Signature(signature) => {
                (ReplayKey::from_signature_and_body(signature, &digest), ReplaySource::SignatureAndBody)
            }
        };
        Ok(DynamicVerified {
            kid: self.kid,
            claims: self.claims,
            timestamp: self.timestamp,
            body: binding,
            replay_key,
            replay_source,
        })
    }
}
