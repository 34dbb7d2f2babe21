use core::fmt;

/// One of the three Standard Webhooks headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderName {
    /// `webhook-id`: the message identifier.
    Id,
    /// `webhook-timestamp`: seconds since the Unix epoch.
    Timestamp,
    /// `webhook-signature`: the space-separated list of signatures.
    Signature,
}

impl HeaderName {
    /// The header's lower-case wire name, e.g. `"webhook-id"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Id => "webhook-id",
            Self::Timestamp => "webhook-timestamp",
            Self::Signature => "webhook-signature",
        }
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a secret, a delivery or a signing request was rejected.
///
/// Variants carry no strings and never say which candidate signature failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The secret is not `whsec_` + base64 (or bare base64) of a non-empty key.
    InvalidSecret,
    /// The message id cannot be signed: it is empty, contains `.` or a control character.
    InvalidId,
    /// A required header is missing or empty.
    MissingHeader(HeaderName),
    /// A header is present more than once or holds bytes that are not visible ASCII.
    InvalidHeader(HeaderName),
    /// `webhook-timestamp` is not a plain decimal number of seconds that fits in a `u64`.
    InvalidTimestamp,
    /// The timestamp is older than the tolerance allows.
    TimestampTooOld,
    /// The timestamp is further in the future than the tolerance allows.
    TimestampTooNew,
    /// The signature header has no entry this key can check (wrong version or length).
    NoSupportedSignature,
    /// No entry of the signature header matches the delivery.
    NoMatchingSignature,
    /// The key can only verify (an Ed25519 public key), not sign.
    CannotSign,
    /// The caller's output buffer is too small for the signature header.
    BufferTooSmall,
    /// More keys were given than a fixed-capacity verification holds
    /// ([`Webhook::begin_any`](crate::Webhook::begin_any)).
    TooManyKeys,
}

impl Error {
    /// The variant's name, e.g. `"NoMatchingSignature"`: a stable code for
    /// logs, metrics and other languages' bindings (the Python package's
    /// `.code`, the npm package's `code`).
    ///
    /// # Examples
    /// ```
    /// use webhook_signature::{Error, HeaderName};
    /// assert_eq!(Error::NoMatchingSignature.name(), "NoMatchingSignature");
    /// assert_eq!(Error::MissingHeader(HeaderName::Id).name(), "MissingHeader");
    /// ```
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::InvalidSecret => "InvalidSecret",
            Self::InvalidId => "InvalidId",
            Self::MissingHeader(_) => "MissingHeader",
            Self::InvalidHeader(_) => "InvalidHeader",
            Self::InvalidTimestamp => "InvalidTimestamp",
            Self::TimestampTooOld => "TimestampTooOld",
            Self::TimestampTooNew => "TimestampTooNew",
            Self::NoSupportedSignature => "NoSupportedSignature",
            Self::NoMatchingSignature => "NoMatchingSignature",
            Self::CannotSign => "CannotSign",
            Self::BufferTooSmall => "BufferTooSmall",
            Self::TooManyKeys => "TooManyKeys",
        }
    }

    /// A short, static, lower-case description of the error.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidSecret => "invalid webhook secret",
            Self::InvalidId => "invalid message id for signing",
            Self::MissingHeader(HeaderName::Id) => "missing webhook-id header",
            Self::MissingHeader(HeaderName::Timestamp) => "missing webhook-timestamp header",
            Self::MissingHeader(HeaderName::Signature) => "missing webhook-signature header",
            Self::InvalidHeader(HeaderName::Id) => "invalid webhook-id header",
            Self::InvalidHeader(HeaderName::Timestamp) => "invalid webhook-timestamp header",
            Self::InvalidHeader(HeaderName::Signature) => "invalid webhook-signature header",
            Self::InvalidTimestamp => "invalid webhook timestamp",
            Self::TimestampTooOld => "webhook timestamp too old",
            Self::TimestampTooNew => "webhook timestamp too new",
            Self::NoSupportedSignature => "no supported signature in header",
            Self::NoMatchingSignature => "no matching signature",
            Self::CannotSign => "key cannot sign",
            Self::BufferTooSmall => "output buffer too small",
            Self::TooManyKeys => "too many keys",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::{Error, HeaderName};

    extern crate std;

    #[test]
    fn names_are_the_variants() {
        let all = [
            Error::InvalidSecret,
            Error::InvalidId,
            Error::MissingHeader(HeaderName::Id),
            Error::InvalidHeader(HeaderName::Signature),
            Error::InvalidTimestamp,
            Error::TimestampTooOld,
            Error::TimestampTooNew,
            Error::NoSupportedSignature,
            Error::NoMatchingSignature,
            Error::CannotSign,
            Error::BufferTooSmall,
            Error::TooManyKeys,
        ];
        for error in all {
            let debug = std::format!("{error:?}");
            assert!(debug.starts_with(error.name()), "{debug} / {}", error.name());
            assert_eq!(debug.split('(').next(), Some(error.name()));
        }
    }
}
