//! Why the extractor refused a request, and the response it becomes.

use std::fmt;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::verifier::{Failure, VerifyError};

/// A refused delivery. As a response it is only a status code and a fixed
/// phrase: which check failed is logged (through `tracing`), never told to the
/// sender. Match on it to build your own response.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// The verifier refused the headers or the body: 400 or 401 by [`Failure`].
    Verify(VerifyError),
    /// The body is over the extractor's limit or axum's `DefaultBodyLimit`: 413.
    TooLarge,
    /// The body could not be read (the client went away mid-body): 400.
    BodyRead(axum::Error),
}

impl WebhookRejection {
    /// The status code it is answered with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Verify(error) if error.kind() == Failure::Malformed => StatusCode::BAD_REQUEST,
            Self::Verify(_) => StatusCode::UNAUTHORIZED,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyRead(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Verify(error) => write!(f, "webhook rejected: {error}"),
            Self::TooLarge => f.write_str("webhook body over the limit"),
            Self::BodyRead(error) => write!(f, "webhook body unreadable: {error}"),
        }
    }
}

impl std::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Verify(error) => Some(error),
            Self::TooLarge => None,
            Self::BodyRead(error) => Some(error),
        }
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        let status = self.status();
        (status, status.canonical_reason().unwrap_or("rejected")).into_response()
    }
}
