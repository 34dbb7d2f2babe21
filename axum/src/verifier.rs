//! The small trait between the extractor and whatever checks a delivery:
//! the static keys here, Gemini's two modes in `webhook-signature-gemini`.

use core::future::Future;
use std::fmt;

use webhook_signature::{AnyVerification, Error, Headers, Timestamp, Verification, Webhook};

/// Checks deliveries in two steps: [`begin`](Self::begin) sees only the
/// headers, before a byte of the body is read; the returned
/// [`PendingVerification`] is fed the body as it arrives.
pub trait WebhookVerifier: Send + Sync + 'static {
    /// What a verified delivery carries besides its body, id and timestamp
    /// (for the static keys: the index of the key that matched).
    type Output: Send + 'static;
    /// The state between the headers and the end of the body.
    type Pending<'a>: PendingVerification<Output = Self::Output> + Send + 'a
    where
        Self: 'a;

    /// Checks everything the headers alone can tell: presence, shape, the
    /// timestamp window, and whether any entry can be checked at all.
    fn begin<'a>(
        &'a self,
        headers: Headers<'a>,
        now: Timestamp,
    ) -> impl Future<Output = Result<Self::Pending<'a>, VerifyError>> + Send + 'a;
}

/// A verification waiting for the body.
pub trait PendingVerification {
    /// What a verified delivery carries.
    type Output;

    /// Feeds the next chunk of the raw body.
    fn update(&mut self, chunk: &[u8]);

    /// Decides, given the whole body as collected.
    ///
    /// # Errors
    /// [`VerifyError`] if the delivery is not authentic.
    fn finish(self, body: &[u8]) -> Result<Self::Output, VerifyError>;
}

/// Why a verifier rejected a delivery, classified for the status code.
#[derive(Debug)]
pub struct VerifyError {
    kind: Failure,
    reason: Box<dyn std::error::Error + Send + Sync>,
}

/// How a rejection is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Failure {
    /// 400: a missing, duplicated or non-ASCII header, or a malformed timestamp.
    Malformed,
    /// 401: stale, unsigned, or signed with no key we accept.
    Unauthenticated,
}

impl VerifyError {
    /// A rejection of `kind`, with `reason` for the logs (never for the client).
    pub fn new(kind: Failure, reason: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { kind, reason: reason.into() }
    }

    /// How the rejection is answered.
    #[must_use]
    pub fn kind(&self) -> Failure {
        self.kind
    }

    /// Why, for the logs.
    #[must_use]
    pub fn reason(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.reason
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.reason, f)
    }
}

impl std::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.reason)
    }
}

impl From<Error> for VerifyError {
    /// 400 for what a well-behaved sender never sends, 401 for the rest.
    fn from(error: Error) -> Self {
        let kind = match error {
            Error::MissingHeader(_) | Error::InvalidHeader(_) | Error::InvalidTimestamp => Failure::Malformed,
            _ => Failure::Unauthenticated,
        };
        Self::new(kind, error)
    }
}

/// Static Standard Webhooks keys (`whsec_`, or `whpk_` with the core's
/// `ed25519` feature): the current key first, then older ones during a
/// rotation, up to [`MAX_KEYS`](Self::MAX_KEYS).
#[derive(Clone, Debug)]
pub struct StaticKeys {
    keys: Vec<Webhook>,
}

impl StaticKeys {
    /// The most keys checked at once: each needs its own MAC state while the
    /// body streams, since the body is read only once.
    pub const MAX_KEYS: usize = 8;

    /// Verifies with `keys`, the current one first.
    ///
    /// # Errors
    /// [`Error::TooManyKeys`] with more than [`MAX_KEYS`](Self::MAX_KEYS) keys,
    /// [`Error::InvalidSecret`] with none.
    pub fn new(keys: Vec<Webhook>) -> Result<Self, Error> {
        match keys.len() {
            0 => Err(Error::InvalidSecret),
            n if n > Self::MAX_KEYS => Err(Error::TooManyKeys),
            _ => Ok(Self { keys }),
        }
    }

    /// The keys, the current one first.
    #[must_use]
    pub fn keys(&self) -> &[Webhook] {
        &self.keys
    }
}

/// The static keys' streaming state.
#[derive(Debug)]
pub struct StaticPending<'a>(Slots<'a>);

/// One key (the usual case) needs one MAC state, not eight. The eight-slot
/// state is boxed: with the core's `ed25519` feature it is about 38 KiB.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // `One` is the hot path: kept inline, so no allocation per request
enum Slots<'a> {
    One(Verification<'a>),
    Many(Box<AnyVerification<'a, { StaticKeys::MAX_KEYS }>>),
}

impl StaticPending<'_> {
    /// Starts a streaming verification with `keys` (at most [`StaticKeys::MAX_KEYS`]).
    ///
    /// # Errors
    /// As [`Webhook::begin_any`].
    pub fn begin<'a>(
        keys: &'a [Webhook],
        headers: &Headers<'a>,
        now: Timestamp,
    ) -> Result<StaticPending<'a>, Error> {
        match keys {
            [key] => key.begin(headers, now).map(|one| StaticPending(Slots::One(one))),
            keys => {
                Webhook::begin_any(keys, headers, now).map(|many| StaticPending(Slots::Many(Box::new(many))))
            }
        }
    }
}

impl PendingVerification for StaticPending<'_> {
    type Output = usize;

    fn update(&mut self, chunk: &[u8]) {
        match &mut self.0 {
            Slots::One(one) => one.update(chunk),
            Slots::Many(many) => many.update(chunk),
        }
    }

    fn finish(self, _body: &[u8]) -> Result<usize, VerifyError> {
        match self.0 {
            Slots::One(one) => one.finish().map(|()| 0).map_err(VerifyError::from),
            Slots::Many(many) => Ok(many.finish()?),
        }
    }
}

impl WebhookVerifier for StaticKeys {
    type Output = usize;
    type Pending<'a> = StaticPending<'a>;

    #[allow(clippy::manual_async_fn)] // the trait needs the `Send` bound spelled out
    fn begin<'a>(
        &'a self,
        headers: Headers<'a>,
        now: Timestamp,
    ) -> impl Future<Output = Result<StaticPending<'a>, VerifyError>> + Send + 'a {
        async move { Ok(StaticPending::begin(&self.keys, &headers, now)?) }
    }
}
