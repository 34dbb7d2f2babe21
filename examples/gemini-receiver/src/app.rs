//! The router: verify (in the extractor), deduplicate, acknowledge, hand over.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use tokio::sync::mpsc;
use webhook_signature_axum::{VerifiedWebhook, WebhookConfig};
use webhook_signature_gemini::{
    Authenticated, Envelope, GeminiVerified, GeminiVerifier, Mode, NotAnEnvelope,
};

use crate::Deduplicator;

/// The largest body accepted; Gemini's envelopes are a few hundred bytes.
pub const MAX_BODY: usize = 256 * 1024;

/// What the handler needs, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    /// Both modes (static secrets, dynamic tokens with their JWKS cache), the
    /// body limit and the clock.
    pub webhooks: WebhookConfig<GeminiVerifier>,
    /// Remembers accepted message ids.
    pub dedup: Arc<dyn Deduplicator>,
    /// Where accepted deliveries go; a worker processes them after the 2xx.
    pub events: mpsc::UnboundedSender<Accepted>,
}

impl FromRef<AppState> for WebhookConfig<GeminiVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.webhooks.clone()
    }
}

/// A delivery that was verified and acknowledged.
#[derive(Debug)]
pub struct Accepted {
    /// `webhook-id`.
    pub id: String,
    /// The body itself (a signature), or only the sender (a bearer token).
    pub authenticated: Authenticated,
    /// The typed event, or why the authentic body is not an envelope.
    pub envelope: Result<Envelope, NotAnEnvelope>,
}

/// `POST /webhooks/gemini`.
pub fn router(state: AppState) -> Router {
    Router::new().route("/webhooks/gemini", post(receive)).with_state(state)
}

/// Runs after the extractor verified the delivery (it answered 400, 401 or
/// 413 otherwise, without reading more of the body than needed). Answers 204
/// at once: for a new delivery, for a retry of an accepted one (a retry must
/// get 2xx, or Gemini keeps retrying), and for an authentic body that is not
/// an envelope (a retry would not fix it).
async fn receive(State(state): State<AppState>, webhook: VerifiedWebhook<GeminiVerifier>) -> StatusCode {
    let VerifiedWebhook { id, verified, .. } = webhook;
    let GeminiVerified { mode, authenticated, envelope, .. } = verified;
    match &mode {
        Mode::Static { key } if *key > 0 => eprintln!("{id}: signed with the previous secret (key #{key})"),
        Mode::Dynamic(token) if authenticated == Authenticated::BearerToken => {
            eprintln!("{id}: dynamic, key {}: sender authenticated, body not bound by the token", token.kid);
        }
        _ => {}
    }
    if !state.dedup.first_delivery(&id) {
        eprintln!("{id}: duplicate delivery, acknowledged again");
        return StatusCode::NO_CONTENT;
    }
    if let Err(error) = &envelope {
        eprintln!("{id}: authentic, but {error}; acknowledged");
    }
    // The worker may have stopped during shutdown; the delivery is still acknowledged.
    let _ = state.events.send(Accepted { id, authenticated, envelope });
    StatusCode::NO_CONTENT
}
