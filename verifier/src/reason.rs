//! Why a delivery was refused, as a label: a small fixed set, so a receiver
//! can count refusals (for metrics or a health page) instead of logging each
//! one, which unauthenticated traffic could flood.

use core::fmt;

use webhook_signature::Error;

/// Why a delivery was refused: a small fixed set, fit for a metric label.
///
/// The verifier's own refusals come with a [`VerifyError`](crate::VerifyError);
/// the body's transport (`TooLarge`, `BodyTimeout`, `BodyRead`) is the
/// receiver's to report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// A Standard Webhooks header is missing or empty (400).
    MissingHeader,
    /// A header is repeated or not visible ASCII (400).
    InvalidHeader,
    /// `webhook-timestamp` is not a plain number of seconds (400).
    InvalidTimestamp,
    /// The timestamp is outside the tolerance window (401).
    StaleTimestamp,
    /// No signature entry matches, or none can be checked (401).
    NoMatchingSignature,
    /// A dynamic token failed a check: shape, algorithm, claims, key or signature (401).
    InvalidToken,
    /// The body is over the receiver's limit (413).
    TooLarge,
    /// The body did not arrive within the receiver's body timeout (408).
    BodyTimeout,
    /// The body could not be read: the client went away mid-body (400).
    BodyRead,
    /// The keys needed to verify could not be had (503, so the sender retries).
    Unavailable,
    /// Any other refusal by a verifier, classified only by its status.
    Other,
}

impl Reason {
    /// Every reason, in a fixed order.
    pub const ALL: [Reason; 11] = [
        Self::MissingHeader,
        Self::InvalidHeader,
        Self::InvalidTimestamp,
        Self::StaleTimestamp,
        Self::NoMatchingSignature,
        Self::InvalidToken,
        Self::TooLarge,
        Self::BodyTimeout,
        Self::BodyRead,
        Self::Unavailable,
        Self::Other,
    ];

    /// A stable `snake_case` name, e.g. `"stale_timestamp"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_header",
            Self::InvalidHeader => "invalid_header",
            Self::InvalidTimestamp => "invalid_timestamp",
            Self::StaleTimestamp => "stale_timestamp",
            Self::NoMatchingSignature => "no_matching_signature",
            Self::InvalidToken => "invalid_token",
            Self::TooLarge => "too_large",
            Self::BodyTimeout => "body_timeout",
            Self::BodyRead => "body_read",
            Self::Unavailable => "unavailable",
            Self::Other => "other",
        }
    }

    /// Its position in [`ALL`](Self::ALL): an index into a table of
    /// per-reason counters.
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Error> for Reason {
    fn from(error: Error) -> Self {
        match error {
            Error::MissingHeader(_) => Self::MissingHeader,
            Error::InvalidHeader(_) => Self::InvalidHeader,
            Error::InvalidTimestamp => Self::InvalidTimestamp,
            Error::TimestampTooOld | Error::TimestampTooNew => Self::StaleTimestamp,
            Error::NoMatchingSignature | Error::NoSupportedSignature => Self::NoMatchingSignature,
            _ => Self::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_follow_all() {
        for (i, reason) in Reason::ALL.into_iter().enumerate() {
            assert_eq!(reason.index(), i, "{reason}");
        }
    }
}
