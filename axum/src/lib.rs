#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod extract;
mod rejection;
mod verifier;

pub use config::WebhookConfig;
pub use extract::VerifiedWebhook;
pub use rejection::WebhookRejection;
pub use verifier::{Failure, PendingVerification, StaticKeys, StaticPending, VerifyError, WebhookVerifier};
/// The core crate, re-exported so both are always the same version.
pub use webhook_signature;
