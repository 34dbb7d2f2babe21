//! The small trait between a receiver (an HTTP extractor, a queue consumer)
//! and whatever checks a delivery: [`StaticKeys`](crate::StaticKeys) here,
//! Gemini's two modes in `webhook-signature-gemini`.

use core::future::Future;

use webhook_signature::{Headers, Timestamp};

use crate::error::VerifyError;

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

    /// The cheap checks a receiver makes before it looks at the body's
    /// length: the headers' presence and the timestamp window. No key is
    /// used, nothing is awaited. The default checks nothing, and leaves it
    /// all to [`begin`](Self::begin).
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
