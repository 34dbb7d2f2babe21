//! One call for both Gemini modes: a compact JWS in `webhook-signature` is a
//! dynamic delivery; anything else is checked with the static secrets.

use webhook_signature::{Headers, Timestamp, Webhook};

use crate::binding::BodyBinding;
use crate::dynamic::{DynamicVerified, DynamicVerifier, Prechecked};
use crate::error::Error;
use crate::event::{Envelope, NotAnEnvelope};
use crate::jwks::Jwks;
use crate::replay::ReplayKey;
use crate::token::is_compact_jws;

/// Verifies Gemini deliveries of both modes.
///
/// # Examples
/// ```
/// use webhook_signature::{Headers, Timestamp, Webhook};
/// use webhook_signature_gemini::{Authenticated, DynamicVerifier, Receiver};
/// let receiver = Receiver::new(vec![Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?])
///     .with_dynamic(DynamicVerifier::new(["https://example.com/webhooks/gemini"]));
/// let headers = Headers {
///     id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
///     timestamp: "1614265330",
///     signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
/// };
/// let now = Timestamp::from_unix_secs(1614265330);
/// let delivery = receiver.verify(&headers, br#"{"test": 2432232314}"#, now, None)?;
/// assert_eq!(delivery.verified.authenticated, Authenticated::Signature);
/// assert!(delivery.verified.envelope.is_err(), "authentic, but not a Gemini envelope");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct Receiver {
    secrets: Vec<Webhook>,
    dynamic: Option<DynamicVerifier>,
}

/// A verified delivery: its headers and what verified it, as the axum
/// extractor's `VerifiedWebhook<GeminiVerifier>` holds them.
#[derive(Debug)]
#[non_exhaustive]
pub struct Delivery<'a> {
    /// `webhook-id`: deduplicate on it, Gemini delivers at least once; and,
    /// for a dynamic delivery, on [`replay_key`](Self::replay_key), since its
    /// token does not sign the id.
    pub id: &'a str,
    /// `webhook-timestamp`.
    pub timestamp: Timestamp,
    /// Which mode verified it, what that authenticated, and the event.
    pub verified: GeminiVerified,
}

/// What verified a Gemini delivery, and its event: the same for
/// [`Receiver::verify`] and `GeminiVerifier` (behind the axum extractor or any other).
#[derive(Debug)]
#[non_exhaustive]
pub struct GeminiVerified {
    /// Which mode and key verified it.
    pub mode: Mode,
    /// What was authenticated: the body, or only the sender.
    pub authenticated: Authenticated,
    /// The typed event, or why the authentic body is not an envelope (answer
    /// 2xx anyway, or Gemini retries for 24 hours).
    pub envelope: Result<Envelope, NotAnEnvelope>,
}

impl GeminiVerified {
    /// What identifies this delivery if it is sent again under another
    /// `webhook-id`: for a dynamic delivery, its [`ReplayKey`] (derived from
    /// the token's `jti`, or its signature and the body); `None` for a static
    /// one, whose signature covers `webhook-id`, so deduplicating on the id
    /// already deduplicates on what was signed.
    ///
    /// A receiver stores the key beside the delivery and acknowledges a
    /// delivery whose key it has seen as a duplicate, without storing it again.
    #[must_use]
    pub fn replay_key(&self) -> Option<ReplayKey> {
        match &self.mode {
            Mode::Dynamic(token) => Some(token.replay_key),
            Mode::Static { .. } => None,
        }
    }

    /// A static signature made with the secret at index `key`.
    pub(crate) fn signed(key: usize, body: &[u8]) -> Self {
        Self {
            mode: Mode::Static { key },
            authenticated: Authenticated::Signature,
            envelope: Envelope::parse(body),
        }
    }

    /// A verified token: it authenticates the body only if it binds it.
    pub(crate) fn token(verified: DynamicVerified, body: &[u8]) -> Self {
        Self {
            authenticated: Authenticated::from(&verified.body),
            mode: Mode::Dynamic(verified),
            envelope: Envelope::parse(body),
        }
    }
}

impl Delivery<'_> {
    /// [`GeminiVerified::replay_key`]: `Some` for a dynamic delivery.
    #[must_use]
    pub fn replay_key(&self) -> Option<ReplayKey> {
        self.verified.replay_key()
    }
}

/// Which mode verified a delivery.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Mode {
    /// A `v1` (or `v1a`) signature matched the static secret at this index.
    Static {
        /// The index in the receiver's secrets: 0 is the current one.
        key: usize,
    },
    /// An RS256 token verified with a JWKS key.
    Dynamic(DynamicVerified),
}

/// What a verification authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Authenticated {
    /// The body itself: a static signature, or a token that binds the body.
    Signature,
    /// Only the sender: a valid token that does not bind the body.
    BearerToken,
}

impl From<&BodyBinding> for Authenticated {
    /// A token that binds the body authenticates it; any other, only the sender.
    fn from(binding: &BodyBinding) -> Self {
        match binding {
            BodyBinding::Bound { .. } => Self::Signature,
            BodyBinding::BearerToken => Self::BearerToken,
        }
    }
}

/// Where the headers alone send a delivery: the one decision every entry
/// point ([`Receiver::verify`], [`Receiver::verify_fetching`],
/// `GeminiVerifier`) starts from.
#[derive(Debug)]
pub(crate) enum Route<'a> {
    /// `v1`/`v1a` signatures, checked with the static secrets.
    Static,
    /// A token whose every cheap check passed: its key and RSA signature remain.
    Dynamic(Prechecked<'a>),
}

impl Authenticated {
    /// `"signature"` or `"bearer-token"`, as stored in the receiver's inbox.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Signature => "signature",
            Self::BearerToken => "bearer-token",
        }
    }
}

impl Receiver {
    /// A receiver for static deliveries signed with any of `secrets` (the
    /// current one first, then the previous one during a rotation).
    #[must_use]
    pub fn new(secrets: Vec<Webhook>) -> Self {
        Self { secrets, dynamic: None }
    }

    /// Also accepts dynamic deliveries checked by `verifier`.
    #[must_use]
    pub fn with_dynamic(self, verifier: DynamicVerifier) -> Self {
        Self { dynamic: Some(verifier), ..self }
    }

    /// The static secrets, the current one first.
    #[must_use]
    pub fn secrets(&self) -> &[Webhook] {
        &self.secrets
    }

    /// The dynamic verifier, if configured.
    #[must_use]
    pub fn dynamic(&self) -> Option<&DynamicVerifier> {
        self.dynamic.as_ref()
    }

    /// Whether `headers` carry a dynamic (JWT) delivery.
    #[must_use]
    pub fn is_dynamic(headers: &Headers<'_>) -> bool {
        is_compact_jws(headers.signature)
    }

    /// Verifies a delivery of either mode and parses its envelope. A dynamic
    /// delivery needs `jwks`; a static one never looks at it.
    ///
    /// # Errors
    /// [`Error::Webhook`] for the static path and the headers,
    /// [`Error::DynamicNotConfigured`], [`Error::KeysUnavailable`] without
    /// `jwks`, or any token error.
    pub fn verify<'a>(
        &self,
        headers: &Headers<'a>,
        body: &[u8],
        now: Timestamp,
        jwks: Option<&Jwks>,
    ) -> Result<Delivery<'a>, Error> {
        match self.route(headers, now)? {
            Route::Static => self.verify_static(headers, body, now),
            Route::Dynamic(prechecked) => {
                let verified = prechecked.finish(body, jwks.ok_or(Error::KeysUnavailable)?)?;
                Ok(Self::dynamic_delivery(headers.id, verified, body))
            }
        }
    }

    /// [`verify`](Self::verify), fetching the JWKS through `cache` only when
    /// a dynamic delivery passes every cheap check. Static deliveries never
    /// touch the network.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    #[cfg(feature = "fetch")]
    #[cfg_attr(docsrs, doc(cfg(feature = "fetch")))]
    pub async fn verify_fetching<'a>(
        &self,
        headers: &Headers<'a>,
        body: &[u8],
        now: Timestamp,
        cache: &crate::JwksCache,
    ) -> Result<Delivery<'a>, Error> {
        match self.route(headers, now)? {
            Route::Static => self.verify_static(headers, body, now),
            Route::Dynamic(prechecked) => {
                let jwks = cache.keys(prechecked.key_id()).await?;
                Ok(Self::dynamic_delivery(headers.id, prechecked.finish(body, &jwks)?, body))
            }
        }
    }

    /// A compact JWS goes to the dynamic verifier's cheap checks; anything
    /// else to the static secrets.
    pub(crate) fn route<'a>(&self, headers: &Headers<'a>, now: Timestamp) -> Result<Route<'a>, Error> {
        if !Self::is_dynamic(headers) {
            return Ok(Route::Static);
        }
        let verifier = self.dynamic.as_ref().ok_or(Error::DynamicNotConfigured)?;
        Ok(Route::Dynamic(verifier.precheck(headers, now)?))
    }

    fn verify_static<'a>(
        &self,
        headers: &Headers<'a>,
        body: &[u8],
        now: Timestamp,
    ) -> Result<Delivery<'a>, Error> {
        let key = Webhook::verify_any(&self.secrets, headers, body, now)?;
        Ok(Delivery {
            id: headers.id,
            // verify_any parsed it already; this cannot fail.
            timestamp: Timestamp::parse(headers.timestamp)?,
            verified: GeminiVerified::signed(key, body),
        })
    }

    fn dynamic_delivery<'a>(id: &'a str, verified: DynamicVerified, body: &[u8]) -> Delivery<'a> {
        Delivery { id, timestamp: verified.timestamp, verified: GeminiVerified::token(verified, body) }
    }
}
