// The README's example runs the server: without the `server` feature it
// cannot compile, so the crate's docs are then this line alone.
#![cfg_attr(feature = "server", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "server"),
    doc = "The `VerifiedWebhook` extractor for axum (the `server` feature is off)."
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body_timeout;
mod config;
mod extract;
mod rejection;
mod rejections;
#[cfg(feature = "server")]
mod server;

pub use body_timeout::BodyTimeout;
pub use config::WebhookConfig;
pub use extract::VerifiedWebhook;
pub use rejection::WebhookRejection;
pub use rejections::Rejections;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use server::{DEFAULT_BACKLOG, Limits, ServeStats, listen, serve, serve_with_stats};
/// The core crate, re-exported so both are always the same version.
pub use webhook_signature;
// The extractor calls any `WebhookVerifier`: the trait, its errors and the
// static keys come from the framework-neutral `webhook-signature-verifier`.
pub use webhook_signature_verifier::{
    Failure, PendingVerification, Reason, StaticKeys, StaticPending, VerifyError, WebhookVerifier,
    check_timestamp_window, widest_tolerance,
};
