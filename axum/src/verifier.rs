//! The small trait between the extractor and whatever checks a delivery:
//! the static keys here, Gemini's two modes in `webhook-signature-gemini`.

use core::future::Future;
use std::fmt;

use webhook_signature::{AnyVerification, Error, Headers, Timestamp, Verification, Webhook};

use crate::reason::Reason;

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

    /// The cheap checks that come before the extractor looks at
    /// `Content-Length`: the headers' presence and the timestamp window. No
    /// key is used, nothing is awaited. The default checks nothing, and
    /// leaves it all to [`begin`](Self::begin).
    ///
    /// # Errors
    /// [`VerifyError`] if the headers alone condemn the delivery.
    fn check_headers(&self, headers: &Headers<'_>, now: Timestamp) -> Result<(), VerifyError> {
        let _ = (headers, now);
        Ok(())
    }

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
    label: Reason,
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
    /// 503: the delivery could not be checked now (its keys are out of
    /// reach), so the sender should retry.
    Unavailable,
}

impl VerifyError {
    /// A rejection of `kind`, with `reason` for the logs (never for the client).
    /// Counted as [`Reason::Unavailable`] for [`Failure::Unavailable`], and
    /// as [`Reason::Other`] otherwise, unless [`with_label`](Self::with_label) says more.
    pub fn new(kind: Failure, reason: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let label = if kind == Failure::Unavailable { Reason::Unavailable } else { Reason::Other };
        Self { kind, label, reason: reason.into() }
    }

    /// The [`Reason`] it is counted as.
    #[must_use]
    pub fn with_label(self, label: Reason) -> Self {
        Self { label, ..self }
    }

    /// The [`Reason`] it is counted as.
    #[must_use]
    pub fn label(&self) -> Reason {
        self.label
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
        Self::new(kind, error).with_label(error.into())
    }
}

/// The headers' presence and the timestamp window
/// ([`Headers::check_timestamp`]): what a [`WebhookVerifier::check_headers`]
/// of Standard Webhooks keys does.
///
/// # Errors
/// [`Error::MissingHeader`], [`Error::InvalidTimestamp`],
/// [`Error::TimestampTooOld`] or [`Error::TimestampTooNew`], as a [`VerifyError`].
pub fn check_timestamp_window(
    headers: &Headers<'_>,
    now: Timestamp,
    tolerance: core::time::Duration,
) -> Result<(), VerifyError> {
    headers.check_timestamp(now, tolerance).map(drop).map_err(VerifyError::from)
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

/// The widest window of `keys`: a timestamp outside it fails every key.
#[must_use]
pub fn widest_tolerance(keys: &[Webhook]) -> core::time::Duration {
    keys.iter().map(Webhook::tolerance).max().unwrap_or(webhook_signature::DEFAULT_TOLERANCE)
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

    fn check_headers(&self, headers: &Headers<'_>, now: Timestamp) -> Result<(), VerifyError> {
        check_timestamp_window(headers, now, widest_tolerance(&self.keys))
    }

    #[allow(clippy::manual_async_fn)] // the trait needs the `Send` bound spelled out
    fn begin<'a>(
        &'a self,
        headers: Headers<'a>,
        now: Timestamp,
    ) -> impl Future<Output = Result<StaticPending<'a>, VerifyError>> + Send + 'a {
        async move { Ok(StaticPending::begin(&self.keys, &headers, now)?) }
    }
}
