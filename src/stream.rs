use core::fmt;

use crate::headers::Checked;
use crate::key::Key;
#[cfg(feature = "ed25519")]
use crate::v1a;
use crate::{Error, Headers, Scheme, Timestamp, Webhook, v1};

/// A verification in progress: the headers have passed every check, and the
/// body is fed in chunks with [`update`](Self::update), so a streamed body is
/// verified without buffering it.
///
/// It borrows the [`Webhook`]'s key rather than copying it, and lives on the
/// caller's stack: 128 bytes for a `v1` key (so `begin` returns it with a few
/// vector moves, not a `memcpy` call), and about 4.8 KiB with the `ed25519`
/// feature (one SHA-512 state per `v1a` candidate, at most
/// `MAX_V1A_CANDIDATES` (16)).
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
    state: State<'a>,
}

// No boxing without an allocator: with the `ed25519` feature a verification
// holds up to 16 SHA-512 states, about 4.8 KiB, on the caller's stack.
#[allow(clippy::large_enum_variant)]
enum State<'a> {
    V1(v1::Pending<'a>),
    #[cfg(feature = "ed25519")]
    V1a(v1a::Pending),
}

impl Webhook {
    /// Starts a streaming verification: checks the headers and the timestamp
    /// window, then absorbs `{id}.{timestamp}.` so only the body remains.
    ///
    /// # Errors
    /// [`Error::MissingHeader`], [`Error::InvalidTimestamp`],
    /// [`Error::TimestampTooOld`], [`Error::TimestampTooNew`] or
    /// [`Error::NoSupportedSignature`], all found before any hashing.
    #[inline]
    pub fn begin<'a>(&'a self, headers: &Headers<'a>, now: Timestamp) -> Result<Verification<'a>, Error> {
        self.start(&headers.check()?, Some(now))
    }

    /// [`begin`](Self::begin) without the timestamp window; a malformed
    /// timestamp is still [`Error::InvalidTimestamp`].
    ///
    /// # Errors
    /// As [`begin`](Self::begin), except the two window errors.
    #[inline]
    pub fn begin_ignoring_timestamp<'a>(&'a self, headers: &Headers<'a>) -> Result<Verification<'a>, Error> {
        self.start(&headers.check()?, None)
    }

    #[inline(always)]
    pub(crate) fn start<'a>(
        &'a self,
        checked: &Checked<'a>,
        now: Option<Timestamp>,
    ) -> Result<Verification<'a>, Error> {
        checked.check_window(now, self.tolerance)?;
        let state = match &self.key {
            Key::Hmac(key) => State::V1(v1::Pending::begin(key, &checked.headers)?),
            #[cfg(feature = "ed25519")]
            Key::Ed25519Public(key) | Key::Ed25519Secret(_, key) => {
                State::V1a(v1a::Pending::begin(key, &checked.headers)?)
            }
        };
        Ok(Verification { state })
    }
}

impl Verification<'_> {
    /// Feeds the next chunk of the raw body.
    #[inline]
    pub fn update(&mut self, chunk: &[u8]) {
        match &mut self.state {
            State::V1(pending) => pending.update(chunk),
            #[cfg(feature = "ed25519")]
            State::V1a(pending) => pending.update(chunk),
        }
    }

    /// Compares the signature of the whole body with every candidate entry.
    ///
    /// Every `v1` entry is compared in constant time and the results are
    /// OR-ed, with no early exit; the number of entries is not capped. `v1a`
    /// entries are checked up to `MAX_V1A_CANDIDATES` (16).
    ///
    /// # Errors
    /// [`Error::NoMatchingSignature`] if no entry matches.
    // Not inlined: inlined, the verification would be copied into the
    // by-value `self`, right after `update` wrote the block's tail with short
    // stores, and the copy's vector loads would stall on store forwarding. A call takes
    // it by reference, and `v1` finishes in place: streaming / one-shot at
    // 512 B 1.009-1.012 against 1.018-1.028 inlined (in-process A/B).
    #[inline(never)]
    pub fn finish(mut self) -> Result<(), Error> {
        match self.state {
            State::V1(ref mut pending) => pending.finish(),
            #[cfg(feature = "ed25519")]
            State::V1a(pending) => pending.finish(),
        }
    }
}

impl fmt::Debug for Verification<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match &self.state {
            State::V1(_) => Scheme::V1,
            #[cfg(feature = "ed25519")]
            State::V1a(_) => Scheme::V1a,
        };
        f.debug_struct("Verification").field("scheme", &scheme).finish_non_exhaustive()
    }
}
