//! Shared fixtures: the Standard Webhooks spec's example secret, a fixed clock,
//! and a router with the extractor behind a small body limit.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::post;
use webhook_signature::{Timestamp, Webhook};
use webhook_signature_axum::{StaticKeys, VerifiedWebhook, WebhookConfig};

// The Standard Webhooks spec's example secret, and a second one for rotation.
pub const CURRENT: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const PREVIOUS: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
pub const NOW: u64 = 1_795_000_000;
pub const LIMIT: usize = 4096;

pub fn fixed_now() -> Timestamp {
    Timestamp::from_unix_secs(NOW)
}

pub fn config() -> WebhookConfig<StaticKeys> {
    let keys =
        StaticKeys::new(vec![Webhook::new(CURRENT).unwrap(), Webhook::new(PREVIOUS).unwrap()]).unwrap();
    WebhookConfig::new(keys).with_max_body(LIMIT).with_clock(fixed_now)
}

/// `POST /hook`: 204 with the matching key's index in `x-key`.
pub fn app() -> Router {
    Router::new()
        .route(
            "/hook",
            post(|webhook: VerifiedWebhook| async move {
                (
                    StatusCode::NO_CONTENT,
                    [("x-key", webhook.verified.to_string()), ("x-len", webhook.body.len().to_string())],
                )
            }),
        )
        .layer(DefaultBodyLimit::max(2 * LIMIT))
        .with_state(config())
}

/// The `webhook-signature` value for a delivery.
pub fn sign(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> String {
    Webhook::new(secret).unwrap().sign(id, Timestamp::from_unix_secs(timestamp), body).unwrap().to_string()
}
