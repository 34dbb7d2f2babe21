//! Why a verifier refused a delivery: how to answer it ([`Failure`]), how to
//! count it ([`Reason`]) and, for the logs only, the error itself.

use std::fmt;

use webhook_signature::Error;

use crate::reason::Reason;

/// Why a verifier rejected a delivery, classified for the status code.
#[derive(Debug)]
pub struct VerifyError {
    kind: Failure,
    label: Reason,
    reason: Box<dyn std::error::Error + Send + Sync>,
}

/// How a rejection is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Failure {
    /// 400: a missing, duplicated or non-ASCII header, or a malformed timestamp.
    Malformed,
    /// 401: stale, unsigned, or signed with no key we accept.
    Unauthenticated,
    /// 503: the delivery could not be checked now (its keys are out of
    /// reach), so the sender should retry.
    Unavailable,
}

impl VerifyError {
    /// A rejection of `kind`, with `reason` for the logs (never for the client).
    /// Counted as [`Reason::Unavailable`] for [`Failure::Unavailable`], and
    /// as [`Reason::Other`] otherwise, unless [`with_label`](Self::with_label) says more.
    pub fn new(kind: Failure, reason: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let label = if kind == Failure::Unavailable { Reason::Unavailable } else { Reason::Other };
        Self { kind, label, reason: reason.into() }
    }

    /// The same rejection, counted as `label`.
    #[must_use]
    pub fn with_label(self, label: Reason) -> Self {
        Self { label, ..self }
    }

    /// The [`Reason`] it is counted as.
    #[must_use]
    pub fn label(&self) -> Reason {
        self.label
    }

    /// How the rejection is answered.
    #[must_use]
    pub fn kind(&self) -> Failure {
        self.kind
    }

    /// Why, for the logs.
    #[must_use]
    pub fn reason(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.reason
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.reason, f)
    }
}

/// Its `Display` is the reason's, so its source is the reason's source: an
/// error chain printed link by link names the reason once.
impl std::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.reason.source()
    }
}

impl From<Error> for VerifyError {
    /// 400 for what a well-behaved sender never sends, 401 for the rest.
    fn from(error: Error) -> Self {
        let kind = match error {
            Error::MissingHeader(_) | Error::InvalidHeader(_) | Error::InvalidTimestamp => Failure::Malformed,
            _ => Failure::Unauthenticated,
        };
        Self::new(kind, error).with_label(error.into())
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// Printed link by link (as anyhow's `{:#}` does), the reason appears
    /// once: the error's text is the reason's, its source the reason's source.
    #[test]
    fn the_reason_is_printed_once_in_a_chain() {
        let reason = Error::NoMatchingSignature;
        let error = VerifyError::from(reason);
        assert_eq!(error.to_string(), reason.to_string());
        assert!(error.source().is_none());

        #[derive(Debug)]
        struct KeysUnreachable(std::io::Error);
        impl fmt::Display for KeysUnreachable {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the keys are out of reach")
            }
        }
        impl std::error::Error for KeysUnreachable {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let reason = KeysUnreachable(std::io::Error::other("connection reset"));
        let error = VerifyError::new(Failure::Unavailable, reason);
        assert_eq!(error.to_string(), "the keys are out of reach");
        assert_eq!(error.source().map(ToString::to_string).as_deref(), Some("connection reset"));
    }
}
