use crate::headers::Checked;
use crate::key::Key;
#[cfg(feature = "ed25519")]
use crate::v1a;
use crate::{Error, Headers, Scheme, Signatures, Timestamp, Webhook, v1};

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
    /// The headers and timestamp are checked once; each key applies its own
    /// tolerance and computes its signature once; then one scan of the header
    /// decodes each `v1` candidate once and compares it, in constant time,
    /// with the tags of up to eight keys at a time (a longer key list is taken
    /// eight keys per scan). Nothing is allocated. With several matching keys,
    /// the lowest index is returned.
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
        let signature = checked.headers.signature;
        // Whether the header has a `v1` candidate at all: one scan for every HMAC key.
        let v1_supported = Signatures::new(signature).next_candidate(Scheme::V1).is_some();
        let mut failure: Option<Error> = None;
        let mut note = |error: Error| {
            if failure.is_none_or(|worse| progress(error) > progress(worse)) {
                failure = Some(error);
            }
        };
        for (batch_number, batch) in keys.chunks(v1::KEY_BATCH).enumerate() {
            let mut tags = [None; v1::KEY_BATCH];
            let mut matched = [false; v1::KEY_BATCH];
            for ((key, tag), hit) in batch.iter().zip(&mut tags).zip(&mut matched) {
                // Ok(true): matched already (Ed25519); Ok(false): a tag to compare.
                let outcome = checked.check_window(Some(now), key.tolerance).and_then(|()| match &key.key {
                    Key::Hmac(_) if !v1_supported => Err(Error::NoSupportedSignature),
                    Key::Hmac(mac) => {
                        *tag = Some(v1::tag(
                            mac,
                            checked.headers.id,
                            checked.headers.timestamp.as_bytes(),
                            payload,
                        ));
                        Ok(false)
                    }
                    #[cfg(feature = "ed25519")]
                    Key::Ed25519Public(public) | Key::Ed25519Secret(_, public) => {
                        v1a::verify(public, &checked.headers, payload).map(|()| true)
                    }
                });
                match outcome {
                    Ok(matched) => *hit = matched,
                    Err(error) => note(error),
                }
            }
            // One scan of the header for all the HMAC keys of the batch.
            let v1_matched = v1::match_tags(signature, &tags);
            if let Some(index) = matched.iter().zip(v1_matched).position(|(&ed25519, v1)| ed25519 | v1) {
                return Ok(batch_number.saturating_mul(v1::KEY_BATCH).saturating_add(index));
            }
            if tags.iter().any(Option::is_some) {
                note(Error::NoMatchingSignature);
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
            Key::Hmac(key) => v1::verify(key, &checked.headers, payload),
            #[cfg(feature = "ed25519")]
            Key::Ed25519Public(key) | Key::Ed25519Secret(_, key) => {
                v1a::verify(key, &checked.headers, payload)
            }
        }
    }
}

/// How far a verification got before it failed, to report the most telling
/// error when several keys fail.
pub(crate) fn progress(error: Error) -> u8 {
    match error {
        Error::NoMatchingSignature => 2,
        Error::NoSupportedSignature => 1,
        _ => 0,
    }
}
