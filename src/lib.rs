#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]

#[cfg(feature = "std")]
extern crate std;

mod compare;
mod content;
mod error;
mod header;
mod headers;
mod key;
mod sign;
mod stream;
mod timestamp;
mod verify;
mod webhook;

pub use error::{Error, HeaderName};
pub use header::{Entry, Scheme, Signatures};
pub use headers::Headers;
pub use key::MAX_KEY_LEN;
pub use sign::{MAX_SIGNATURE_LEN, Signature};
pub use stream::Verification;
pub use timestamp::Timestamp;
pub use webhook::{DEFAULT_TOLERANCE, Webhook};

/// The `webhook-id` header name.
pub const WEBHOOK_ID: &str = HeaderName::Id.as_str();
/// The `webhook-timestamp` header name.
pub const WEBHOOK_TIMESTAMP: &str = HeaderName::Timestamp.as_str();
/// The `webhook-signature` header name.
pub const WEBHOOK_SIGNATURE: &str = HeaderName::Signature.as_str();
