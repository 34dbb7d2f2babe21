#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "server")]
mod activity;
mod config;
mod deadline;
mod extract;
#[cfg(feature = "server")]
mod listen;
mod reason;
mod rejection;
#[cfg(feature = "server")]
mod serve;
#[cfg(feature = "server")]
mod serve_stats;
mod verifier;

pub use config::WebhookConfig;
pub use deadline::BodyTimeout;
pub use extract::VerifiedWebhook;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use listen::{DEFAULT_BACKLOG, listen};
pub use reason::{Reason, Rejections};
pub use rejection::WebhookRejection;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use serve::{Limits, serve, serve_with_stats};
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use serve_stats::ServeStats;
pub use verifier::{
    Failure, PendingVerification, StaticKeys, StaticPending, VerifyError, WebhookVerifier,
    check_timestamp_window, widest_tolerance,
};
/// The core crate, re-exported so both are always the same version.
pub use webhook_signature;
