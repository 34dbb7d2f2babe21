#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body_timeout;
mod config;
mod extract;
mod reason;
mod rejection;
#[cfg(feature = "server")]
mod server;
mod verifier;

pub use body_timeout::BodyTimeout;
pub use config::WebhookConfig;
pub use extract::VerifiedWebhook;
pub use reason::{Reason, Rejections};
pub use rejection::WebhookRejection;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use server::{DEFAULT_BACKLOG, Limits, ServeStats, listen, serve, serve_with_stats};
pub use verifier::{
    Failure, PendingVerification, StaticKeys, StaticPending, VerifyError, WebhookVerifier,
    check_timestamp_window, widest_tolerance,
};
/// The core crate, re-exported so both are always the same version.
pub use webhook_signature;
