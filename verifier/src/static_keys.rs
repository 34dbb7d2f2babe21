//! Standard Webhooks keys known in advance, as a [`WebhookVerifier`]: every
//! key's MAC is fed the body in one pass, so a key rotation costs no second
//! read.

use core::future::Future;
use core::time::Duration;

use webhook_signature::{AnyVerification, Error, Headers, Timestamp, Verification, Webhook};

use crate::error::VerifyError;
use crate::verifier::{PendingVerification, WebhookVerifier};

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
    tolerance: Duration,
) -> Result<(), VerifyError> {
    headers.check_timestamp(now, tolerance).map(drop).map_err(VerifyError::from)
}

/// The widest window of `keys`: a timestamp outside it fails every key.
/// [`DEFAULT_TOLERANCE`](webhook_signature::DEFAULT_TOLERANCE) for no key.
#[must_use]
pub fn widest_tolerance(keys: &[Webhook]) -> Duration {
    keys.iter().map(Webhook::tolerance).max().unwrap_or(webhook_signature::DEFAULT_TOLERANCE)
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
    /// The index of the key that matched, in the order given.
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
