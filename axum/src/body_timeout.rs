//! The error a body gives when it missed the server's body deadline, which
//! the extractor maps to 408.

use core::fmt;

/// The body did not arrive within the server's body timeout; the extractor
/// answers 408 when it finds this error behind a body error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyTimeout;

impl fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("request body not received within the body timeout")
    }
}

impl std::error::Error for BodyTimeout {}
