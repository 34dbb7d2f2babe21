#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]

#[cfg(any(feature = "std", test))]
extern crate std;

mod compare;
#[cfg(feature = "ed25519")]
mod content;
mod encode;
mod error;
mod header;
mod headers;
mod hmac256;
#[cfg(feature = "http1")]
#[cfg_attr(docsrs, doc(cfg(feature = "http1")))]
mod http;
mod key;
mod lanes;
mod primitives;
mod sign;
mod stream;
mod stream_any;
mod timestamp;
mod v1;
#[cfg(feature = "ed25519")]
mod v1a;
mod verify;
mod webhook;

pub use error::{Error, HeaderName};
pub use header::{Entry, Scheme, Signatures};
pub use headers::Headers;
pub use key::MAX_KEY_LEN;
pub use primitives::{decode_hmac_secret, hmac_sha256};
pub use sign::{MAX_SIGNATURE_LEN, Signature};
pub use stream::Verification;
pub use stream_any::AnyVerification;
pub use timestamp::Timestamp;
#[cfg(feature = "ed25519")]
pub use v1a::MAX_V1A_CANDIDATES;
pub use webhook::{DEFAULT_TOLERANCE, Webhook};

/// The `webhook-id` header name.
pub const WEBHOOK_ID: &str = HeaderName::Id.as_str();
/// The `webhook-timestamp` header name.
pub const WEBHOOK_TIMESTAMP: &str = HeaderName::Timestamp.as_str();
/// The `webhook-signature` header name.
pub const WEBHOOK_SIGNATURE: &str = HeaderName::Signature.as_str();
