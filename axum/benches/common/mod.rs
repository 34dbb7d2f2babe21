//! What both axum benches compare: one router with a plain `Bytes` handler
//! and a `VerifiedWebhook` one, answering alike.

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use webhook_signature::Webhook;
use webhook_signature_axum::{StaticKeys, VerifiedWebhook, WebhookConfig};

/// The secret both routes' deliveries are signed with.
pub(crate) const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// `/plain` (`Bytes`) and `/verified` (`VerifiedWebhook`), both 204 with the body length.
pub(crate) fn router() -> Router {
    let keys = StaticKeys::new(vec![Webhook::new(SECRET).expect("secret")]).expect("keys");
    Router::new()
        .route(
            "/plain",
            post(|body: Bytes| async move { (StatusCode::NO_CONTENT, [("x-len", body.len().to_string())]) }),
        )
        .route(
            "/verified",
            post(|webhook: VerifiedWebhook| async move {
                (StatusCode::NO_CONTENT, [("x-len", webhook.body.len().to_string())])
            }),
        )
        .with_state(WebhookConfig::new(keys))
}
