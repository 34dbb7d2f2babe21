#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod reason;
mod static_keys;
mod verifier;

pub use error::{Failure, VerifyError};
pub use reason::Reason;
pub use static_keys::{StaticKeys, StaticPending, check_timestamp_window, widest_tolerance};
pub use verifier::{PendingVerification, WebhookVerifier};
/// The core crate, re-exported so both are always the same version.
pub use webhook_signature;
