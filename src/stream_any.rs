//! Streaming verification with several keys at once, for key rotation when
//! the body can be read only once.

use core::fmt;

use crate::verify::progress;
use crate::{Error, Headers, Timestamp, Verification, Webhook};

/// A streaming verification with up to `N` keys: every key's state is fed
/// each chunk, so a body that can be read only once is verified against all
/// of them in one pass, without allocating.
///
/// It lives on the caller's stack: `N` times a [`Verification`] (128
/// bytes each for `v1`; about 4.8 KiB each with the `ed25519` feature).
///
/// # Examples
/// ```
/// use webhook_signature::{AnyVerification, Headers, Timestamp, Webhook};
/// let keys = [
///     Webhook::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?, // the new key
///     Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?, // the old one
/// ];
/// let headers = Headers {
///     id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
///     timestamp: "1614265330",
///     signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
/// };
/// let now = Timestamp::from_unix_secs(1614265330);
/// let mut verification: AnyVerification<'_, 4> = Webhook::begin_any(&keys, &headers, now)?;
/// for chunk in [&b"{\"test\": "[..], b"2432232314}"] {
///     verification.update(chunk);
/// }
/// assert_eq!(verification.finish()?, 1);
/// # Ok::<(), webhook_signature::Error>(())
/// ```
pub struct AnyVerification<'a, const N: usize> {
    pending: [Option<Verification<'a>>; N],
}

impl Webhook {
    /// Starts a streaming verification with up to `N` keys, as
    /// [`verify_any`](Self::verify_any) does in one shot: the headers are
    /// checked once, then each key checks its timestamp window and finds its
    /// first candidate entry, all before any hashing. Keys that cannot check
    /// this delivery take no part; if none can, the most telling error is returned.
    ///
    /// # Errors
    /// [`Error::TooManyKeys`] if `keys` has more than `N` keys; a header
    /// error as in [`verify`](Self::verify); otherwise, if no key can start,
    /// [`Error::NoSupportedSignature`] or the first key's window error.
    #[inline]
    pub fn begin_any<'a, const N: usize>(
        keys: &'a [Webhook],
        headers: &Headers<'a>,
        now: Timestamp,
    ) -> Result<AnyVerification<'a, N>, Error> {
        if keys.len() > N {
            return Err(Error::TooManyKeys);
        }
        let checked = headers.check()?;
        let mut pending = core::array::from_fn(|_| None);
        let mut failure: Option<Error> = None;
        for (slot, key) in pending.iter_mut().zip(keys) {
            match key.start(&checked, Some(now)) {
                Ok(verification) => *slot = Some(verification),
                Err(error) if failure.is_none_or(|worse| progress(error) > progress(worse)) => {
                    failure = Some(error);
                }
                Err(_) => {}
            }
        }
        if pending.iter().all(Option::is_none) {
            return Err(failure.unwrap_or(Error::NoSupportedSignature));
        }
        Ok(AnyVerification { pending })
    }
}

impl<const N: usize> AnyVerification<'_, N> {
    /// Feeds the next chunk of the raw body to every key.
    #[inline]
    pub fn update(&mut self, chunk: &[u8]) {
        for verification in self.pending.iter_mut().flatten() {
            verification.update(chunk);
        }
    }

    /// Finishes every key's verification and returns the index of the first
    /// key that matched.
    ///
    /// # Errors
    /// [`Error::NoMatchingSignature`] if no key matched.
    #[inline]
    pub fn finish(self) -> Result<usize, Error> {
        let mut matched = None;
        for (index, verification) in self.pending.into_iter().enumerate() {
            // Every started key finishes: which key matched is the result, but
            // how many candidates each compared should not depend on it.
            if let Some(verification) = verification
                && verification.finish().is_ok()
                && matched.is_none()
            {
                matched = Some(index);
            }
        }
        matched.ok_or(Error::NoMatchingSignature)
    }
}

impl<const N: usize> fmt::Debug for AnyVerification<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.pending.iter().filter(|v| v.is_some()).count();
        f.debug_struct("AnyVerification").field("keys", &keys).finish_non_exhaustive()
    }
}
