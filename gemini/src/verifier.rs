//! Both Gemini modes as one `WebhookVerifier`, for any receiver that drives
//! one (`webhook-signature-axum`'s `VerifiedWebhook` extractor does): static
//! deliveries stream through the HMAC; dynamic ones have their token (and its
//! RSA signature) checked before the body is read.

use core::future::Future;

use webhook_signature::{Headers, Timestamp};
use webhook_signature_verifier::{
    Failure, PendingVerification, Reason, StaticKeys, StaticPending, VerifyError, WebhookVerifier,
    check_timestamp_window, widest_tolerance,
};

use crate::dynamic::SignedToken;
use crate::error::Error;
use crate::fetch::JwksCache;
use crate::receiver::{GeminiVerified, Receiver, Route};

/// A [`Receiver`] and its [`JwksCache`], as a [`WebhookVerifier`]: in axum,
/// use `webhook_signature_axum::VerifiedWebhook<GeminiVerifier>` in a handler.
#[derive(Debug)]
pub struct GeminiVerifier {
    receiver: Receiver,
    jwks: JwksCache,
}

impl GeminiVerifier {
    /// The most static secrets: each needs its own MAC state while the body
    /// streams ([`StaticKeys::MAX_KEYS`]).
    pub const MAX_SECRETS: usize = StaticKeys::MAX_KEYS;

    /// Both modes of `receiver`, with dynamic keys from `jwks`.
    ///
    /// # Errors
    /// [`webhook_signature::Error::TooManyKeys`] if `receiver` has more than
    /// [`MAX_SECRETS`](Self::MAX_SECRETS) static secrets: every static
    /// delivery would fail otherwise.
    pub fn new(receiver: Receiver, jwks: JwksCache) -> Result<Self, webhook_signature::Error> {
        if receiver.secrets().len() > Self::MAX_SECRETS {
            return Err(webhook_signature::Error::TooManyKeys);
        }
        Ok(Self { receiver, jwks })
    }

    /// The JWKS cache.
    #[must_use]
    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
    }
}

/// A Gemini verification waiting for the body.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // the static path is the hot one: kept inline, no allocation per request
pub enum GeminiPending<'a> {
    /// A static delivery: every secret's MAC is fed the body.
    Static(StaticPending<'a>),
    /// A dynamic delivery whose token verified; only the body binding remains.
    Dynamic(SignedToken),
}

/// 400 for malformed headers, 503 when no keys can be had (so the sender
/// retries), 401 for every other failure, as for the core.
fn reject(error: Error) -> VerifyError {
    match error {
        Error::Webhook(core) => core.into(),
        Error::KeysUnavailable => VerifyError::new(Failure::Unavailable, error),
        other => VerifyError::new(Failure::Unauthenticated, other).with_label(Reason::InvalidToken),
    }
}

impl WebhookVerifier for GeminiVerifier {
    type Output = GeminiVerified;
    type Pending<'a> = GeminiPending<'a>;

    fn check_headers(&self, headers: &Headers<'_>, now: Timestamp) -> Result<(), VerifyError> {
        if !Receiver::is_dynamic(headers) {
            return check_timestamp_window(headers, now, widest_tolerance(self.receiver.secrets()));
        }
        let verifier = self.receiver.dynamic().ok_or(Error::DynamicNotConfigured).map_err(reject)?;
        verifier.check_timestamp(headers, now).map(drop).map_err(reject)
    }

    #[allow(clippy::manual_async_fn)] // the trait needs the `Send` bound spelled out
    fn begin<'a>(
        &'a self,
        headers: Headers<'a>,
        now: Timestamp,
    ) -> impl Future<Output = Result<GeminiPending<'a>, VerifyError>> + Send + 'a {
        async move {
            match self.receiver.route(&headers, now).map_err(reject)? {
                Route::Static => {
                    Ok(GeminiPending::Static(StaticPending::begin(self.receiver.secrets(), &headers, now)?))
                }
                Route::Dynamic(prechecked) => {
                    let jwks = self.jwks.keys(prechecked.key_id()).await.map_err(reject)?;
                    Ok(GeminiPending::Dynamic(prechecked.verify_signature(&jwks).map_err(reject)?))
                }
            }
        }
    }
}

impl PendingVerification for GeminiPending<'_> {
    type Output = GeminiVerified;

    fn update(&mut self, chunk: &[u8]) {
        if let Self::Static(pending) = self {
            pending.update(chunk);
        }
    }

    fn finish(self, body: &[u8]) -> Result<GeminiVerified, VerifyError> {
        match self {
            Self::Static(pending) => Ok(GeminiVerified::signed(pending.finish(body)?, body)),
            Self::Dynamic(token) => Ok(GeminiVerified::token(token.bind(body).map_err(reject)?, body)),
        }
    }
}
