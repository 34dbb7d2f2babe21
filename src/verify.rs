use crate::headers::Checked;
use crate::key::Key;
#[cfg(feature = "ed25519")]
use crate::v1a;
use crate::{Error, Headers, Timestamp, Webhook, v1};

impl Webhook {
    /// Verifies a delivery: the headers, the timestamp against `now` within the
    /// tolerance, and the signature of `{id}.{timestamp}.{payload}`.
    ///
    /// `payload` is the raw request body, exactly as received. Header and
    /// timestamp checks come first, so stale or malformed deliveries are
    /// rejected without hashing the body.
    ///
    /// # Errors
    /// [`Error::MissingHeader`], [`Error::InvalidTimestamp`],
    /// [`Error::TimestampTooOld`], [`Error::TimestampTooNew`],
    /// [`Error::NoSupportedSignature`] or [`Error::NoMatchingSignature`].
    ///
    /// # Examples
    /// ```
    /// use webhook_signature::{Headers, Timestamp, Webhook};
    /// let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
    /// let headers = Headers {
    ///     id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
    ///     timestamp: "1614265330",
    ///     signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    /// };
    /// let now = Timestamp::from_unix_secs(1614265330);
    /// webhook.verify(&headers, br#"{"test": 2432232314}"#, now)?;
    /// # Ok::<(), webhook_signature::Error>(())
    /// ```
    pub fn verify(&self, headers: &Headers<'_>, payload: &[u8], now: Timestamp) -> Result<(), Error> {
        self.verify_checked(&headers.check()?, payload, Some(now))
    }

    /// [`verify`](Self::verify) without the timestamp window, e.g. to replay a
    /// stored delivery. A malformed timestamp is still rejected.
    ///
    /// # Errors
    /// As [`verify`](Self::verify), except the two window errors.
    pub fn verify_ignoring_timestamp(&self, headers: &Headers<'_>, payload: &[u8]) -> Result<(), Error> {
        self.verify_checked(&headers.check()?, payload, None)
    }

    /// [`verify`](Self::verify) against the system clock.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn verify_now(&self, headers: &Headers<'_>, payload: &[u8]) -> Result<(), Error> {
        self.verify(headers, payload, Timestamp::now())
    }

    /// Verifies with any of several keys, for key rotation, and returns the
    /// index of the first key that matched, so an operator can see when an old
    /// key stops being used.
    ///
    /// The headers and timestamp are checked once; then each key applies its
    /// own tolerance, computes its signature once and compares it with every
    /// candidate entry. Nothing is allocated.
    ///
    /// # Errors
    /// A header error as in [`verify`](Self::verify); otherwise, if no key
    /// matched, the error of the key that got furthest:
    /// [`Error::NoMatchingSignature`], else [`Error::NoSupportedSignature`],
    /// else the first key's timestamp window error. With no keys at all,
    /// [`Error::NoSupportedSignature`].
    ///
    /// # Examples
    /// ```
    /// use webhook_signature::{Headers, Timestamp, Webhook};
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
    /// let matched = Webhook::verify_any(&keys, &headers, br#"{"test": 2432232314}"#, now)?;
    /// assert_eq!(matched, 1);
    /// # Ok::<(), webhook_signature::Error>(())
    /// ```
    pub fn verify_any(
        keys: &[Webhook],
        headers: &Headers<'_>,
        payload: &[u8],
        now: Timestamp,
    ) -> Result<usize, Error> {
        let checked = headers.check()?;
        let mut failure: Option<Error> = None;
        for (index, key) in keys.iter().enumerate() {
            match key.verify_checked(&checked, payload, Some(now)) {
                Ok(()) => return Ok(index),
                Err(error) => {
                    if failure.is_none_or(|worse| progress(error) > progress(worse)) {
                        failure = Some(error);
                    }
                }
            }
        }
        Err(failure.unwrap_or(Error::NoSupportedSignature))
    }

    /// One-shot verification after the header checks. It drives the same
    /// per-scheme steps as [`Verification`](crate::Verification), without
    /// moving their state through it.
    #[inline(always)]
    fn verify_checked(
        &self,
        checked: &Checked<'_>,
        payload: &[u8],
        now: Option<Timestamp>,
    ) -> Result<(), Error> {
        checked.check_window(now, self.tolerance)?;
        match &self.key {
            Key::Hmac(key) => {
                let mut pending = v1::Pending::begin(key, &checked.headers)?;
                pending.update(payload);
                pending.finish()
            }
            #[cfg(feature = "ed25519")]
            Key::Ed25519Public(key) | Key::Ed25519Secret(_, key) => {
                v1a::verify(key, &checked.headers, payload)
            }
        }
    }
}

/// How far a verification got before it failed, to report the most telling
/// error when several keys fail.
fn progress(error: Error) -> u8 {
    match error {
        Error::NoMatchingSignature => 2,
        Error::NoSupportedSignature => 1,
        _ => 0,
    }
}
