use core::fmt;

use hmac::Mac;

use crate::headers::Checked;
use crate::key::{HmacSha256, Key};
use crate::{Error, Headers, Scheme, Signatures, Timestamp, Webhook, compare, content};

/// A verification in progress: the headers have passed every check, and the
/// body is fed in chunks with [`update`](Self::update), so a streamed body is
/// verified without buffering it.
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
/// let mut verification = webhook.begin(&headers, Timestamp::from_unix_secs(1614265330))?;
/// for chunk in [&b"{\"test\": "[..], b"2432232314}"] {
///     verification.update(chunk);
/// }
/// verification.finish()?;
/// # Ok::<(), webhook_signature::Error>(())
/// ```
pub struct Verification<'a> {
    /// The first candidate entry, found before hashing (else the delivery was
    /// rejected as unsupported), and the entries after it.
    first: &'a str,
    rest: Signatures<'a>,
    state: State,
}

enum State {
    Hmac(HmacSha256),
}

impl Webhook {
    /// Starts a streaming verification: checks the headers and the timestamp
    /// window, then absorbs `{id}.{timestamp}.` so only the body remains.
    ///
    /// # Errors
    /// [`Error::MissingHeader`], [`Error::InvalidTimestamp`],
    /// [`Error::TimestampTooOld`], [`Error::TimestampTooNew`] or
    /// [`Error::NoSupportedSignature`], all found before any hashing.
    #[inline(always)]
    pub fn begin<'a>(
        &self,
        headers: &Headers<'a>,
        now: Timestamp,
    ) -> Result<Verification<'a>, Error> {
        self.start(&headers.check()?, Some(now))
    }

    /// [`begin`](Self::begin) without the timestamp window; a malformed
    /// timestamp is still [`Error::InvalidTimestamp`].
    ///
    /// # Errors
    /// As [`begin`](Self::begin), except the two window errors.
    #[inline(always)]
    pub fn begin_ignoring_timestamp<'a>(
        &self,
        headers: &Headers<'a>,
    ) -> Result<Verification<'a>, Error> {
        self.start(&headers.check()?, None)
    }

    #[inline(always)]
    pub(crate) fn start<'a>(
        &self,
        checked: &Checked<'a>,
        now: Option<Timestamp>,
    ) -> Result<Verification<'a>, Error> {
        if let Some(now) = now {
            checked.timestamp.check_window(now, self.tolerance)?;
        }
        let Headers {
            id,
            timestamp,
            signature,
        } = checked.headers;
        let mut rest = Signatures::new(signature);
        let (first, state) = match &self.key {
            Key::Hmac(key) => {
                let first = rest
                    .next_candidate(Scheme::V1)
                    .ok_or(Error::NoSupportedSignature)?;
                (
                    first,
                    State::Hmac(content::hmac_after_prefix(key, id, timestamp.as_bytes())),
                )
            }
        };
        Ok(Verification { first, rest, state })
    }
}

impl Verification<'_> {
    /// Feeds the next chunk of the raw body.
    #[inline(always)]
    pub fn update(&mut self, chunk: &[u8]) {
        match &mut self.state {
            State::Hmac(mac) => mac.update(chunk),
        }
    }

    /// Compares the signature of the whole body with every candidate entry.
    ///
    /// Every `v1` entry is compared in constant time and the results are
    /// OR-ed, with no early exit; the number of entries is not capped.
    ///
    /// # Errors
    /// [`Error::NoMatchingSignature`] if no entry matches.
    #[inline(always)]
    pub fn finish(self) -> Result<(), Error> {
        let matched = match self.state {
            State::Hmac(mac) => {
                let tag: [u8; 32] = mac.finalize().into_bytes().into();
                let mut matched = compare::matches(self.first, &tag);
                for candidate in self.rest.candidates(Scheme::V1) {
                    // `|` rather than `||`: every candidate is compared.
                    matched |= compare::matches(candidate, &tag);
                }
                matched
            }
        };
        if matched {
            Ok(())
        } else {
            Err(Error::NoMatchingSignature)
        }
    }
}

impl fmt::Debug for Verification<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verification")
            .field("first_candidate", &self.first)
            .finish_non_exhaustive()
    }
}
