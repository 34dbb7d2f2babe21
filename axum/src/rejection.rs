//! Why the extractor refused a request, and the response it becomes.

use std::fmt;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use http_body_util::LengthLimitError;
use webhook_signature_verifier::{Failure, Reason, VerifyError};

use crate::body_timeout::BodyTimeout;

/// A refused delivery. As a response it is only a status code and a fixed
/// phrase: which check failed is logged (through `tracing`), never told to the
/// sender. Match on it to build your own response.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// The verifier refused the headers or the body: 400, 401 or 503 by [`Failure`].
    Verify(VerifyError),
    /// The body is over the extractor's limit or axum's `DefaultBodyLimit`: 413.
    TooLarge,
    /// The body did not arrive within the server's body timeout
    /// ([`serve`](crate::serve)'s `body_timeout`): 408.
    Timeout,
    /// The body could not be read (the client went away mid-body): 400.
    BodyRead(axum::Error),
}

impl WebhookRejection {
    /// The status code it is answered with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Verify(error) => match error.kind() {
                Failure::Malformed => StatusCode::BAD_REQUEST,
                Failure::Unauthenticated => StatusCode::UNAUTHORIZED,
                Failure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                // `Failure` is non-exhaustive: a kind added later is still a refusal.
                _ => StatusCode::UNAUTHORIZED,
            },
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::BodyRead(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// Why, as counted in [`Rejections`](crate::Rejections).
    #[must_use]
    pub fn reason(&self) -> Reason {
        match self {
            Self::Verify(error) => error.label(),
            Self::TooLarge => Reason::TooLarge,
            Self::Timeout => Reason::BodyTimeout,
            Self::BodyRead(_) => Reason::BodyRead,
        }
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Verify(error) => write!(f, "webhook rejected: {error}"),
            Self::TooLarge => f.write_str("webhook body over the limit"),
            Self::Timeout => f.write_str("webhook body did not arrive in time"),
            Self::BodyRead(error) => write!(f, "webhook body unreadable: {error}"),
        }
    }
}

impl std::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Verify(error) => Some(error),
            Self::TooLarge | Self::Timeout => None,
            Self::BodyRead(error) => Some(error),
        }
    }
}

/// An error reading a request body, classified: axum's `DefaultBodyLimit`
/// surfaces as a `LengthLimitError` inside it ([`TooLarge`](Self::TooLarge)),
/// and [`serve`](crate::serve)'s body deadline as a [`BodyTimeout`]
/// ([`Timeout`](Self::Timeout)); anything else is [`BodyRead`](Self::BodyRead).
/// For handlers that read a body themselves and answer as the extractor does.
impl From<axum::Error> for WebhookRejection {
    fn from(error: axum::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(current) = source {
            if current.is::<LengthLimitError>() {
                return Self::TooLarge;
            }
            if current.is::<BodyTimeout>() {
                return Self::Timeout;
            }
            source = current.source();
        }
        Self::BodyRead(error)
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        let status = self.status();
        (status, status.canonical_reason().unwrap_or("rejected")).into_response()
    }
}
