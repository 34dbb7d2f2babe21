use core::time::Duration;

use crate::{Error, HeaderName, Timestamp};

/// The three Standard Webhooks headers of one delivery, borrowed from the request.
///
/// Named fields, so values cannot be swapped by position.
///
/// # Examples
/// ```
/// use webhook_signature::Headers;
/// let headers = Headers {
///     id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
///     timestamp: "1614265330",
///     signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
/// };
/// # let _ = headers;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Headers<'a> {
    /// `webhook-id`: the unique message identifier.
    pub id: &'a str,
    /// `webhook-timestamp`: seconds since the Unix epoch, as received.
    pub timestamp: &'a str,
    /// `webhook-signature`: space-separated `version,base64` entries.
    pub signature: &'a str,
}

/// Headers whose presence and timestamp syntax have been checked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checked<'a> {
    pub(crate) headers: Headers<'a>,
    pub(crate) timestamp: Timestamp,
}

impl Checked<'_> {
    /// Checks the timestamp window, unless `now` is `None` (ignoring it).
    #[inline(always)]
    pub(crate) fn check_window(&self, now: Option<Timestamp>, tolerance: Duration) -> Result<(), Error> {
        now.map_or(Ok(()), |now| self.timestamp.check_window(now, tolerance))
    }
}

impl<'a> Headers<'a> {
    /// Looks each header up by its lower-case name (`"webhook-id"`, …) through
    /// `get`, so any HTTP library works, whatever its `http` version. A missing
    /// header becomes an empty string, which verification reports as
    /// [`Error::MissingHeader`].
    ///
    /// # Examples
    /// ```
    /// use webhook_signature::Headers;
    /// let request = [("webhook-id", "msg_1"), ("webhook-timestamp", "1"), ("webhook-signature", "v1,x")];
    /// let headers = Headers::from_fn(|name| {
    ///     request.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    /// });
    /// assert_eq!(headers.id, "msg_1");
    /// ```
    pub fn from_fn(mut get: impl FnMut(&'static str) -> Option<&'a str>) -> Self {
        let mut value = |name: HeaderName| get(name.as_str()).unwrap_or_default();
        Self {
            id: value(HeaderName::Id),
            timestamp: value(HeaderName::Timestamp),
            signature: value(HeaderName::Signature),
        }
    }

    /// The checks that need no key and no body: every header present, the
    /// timestamp well-formed and within `tolerance` of `now`, in the order
    /// verification makes them (so the same error wins). A streaming
    /// receiver runs them before it looks at `Content-Length`.
    ///
    /// # Errors
    /// [`Error::MissingHeader`], [`Error::InvalidTimestamp`],
    /// [`Error::TimestampTooOld`] or [`Error::TimestampTooNew`].
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use webhook_signature::{Error, Headers, Timestamp};
    /// let headers = Headers { id: "msg_1", timestamp: "1614265330", signature: "v1,x" };
    /// let now = Timestamp::from_unix_secs(1614265330 + 301);
    /// assert_eq!(headers.check_timestamp(now, Duration::from_secs(300)), Err(Error::TimestampTooOld));
    /// ```
    pub fn check_timestamp(&self, now: Timestamp, tolerance: Duration) -> Result<Timestamp, Error> {
        let checked = self.check()?;
        checked.check_window(Some(now), tolerance)?;
        Ok(checked.timestamp)
    }

    /// Checks that every header is present and that the timestamp parses.
    #[inline]
    pub(crate) fn check(&self) -> Result<Checked<'a>, Error> {
        for (value, name) in [
            (self.id, HeaderName::Id),
            (self.timestamp, HeaderName::Timestamp),
            (self.signature, HeaderName::Signature),
        ] {
            if value.is_empty() {
                return Err(Error::MissingHeader(name));
            }
        }
        let timestamp = Timestamp::parse(self.timestamp)?;
        Ok(Checked { headers: *self, timestamp })
    }
}
