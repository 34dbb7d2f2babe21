//! The router: verify (in the extractor), commit to the inbox, then answer.

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use webhook_signature_axum::{VerifiedWebhook, WebhookConfig};
use webhook_signature_gemini::{Authenticated, GeminiVerified, GeminiVerifier, Mode};
use webhook_signature_inbox::{Inbox, Inserted, NewDelivery};

/// The largest body accepted; Gemini's envelopes are a few hundred bytes.
pub const MAX_BODY: usize = 256 * 1024;

/// What the handler needs, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    /// Both modes (static secrets, dynamic tokens with their JWKS cache), the
    /// body limit and the clock.
    pub webhooks: WebhookConfig<GeminiVerifier>,
    /// Where verified deliveries are committed before the 2xx.
    pub inbox: Inbox,
    /// Unix seconds, for `received_at`; injectable for tests.
    pub clock: fn() -> i64,
}

impl FromRef<AppState> for WebhookConfig<GeminiVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.webhooks.clone()
    }
}

/// `POST /webhooks/gemini`.
pub fn router(state: AppState) -> Router {
    Router::new().route("/webhooks/gemini", post(receive)).with_state(state)
}

/// Runs after the extractor verified the delivery (it answered 400, 401 or
/// 413 otherwise). Commits it to the inbox and only then answers 204: for a
/// new delivery, for a retry of a stored one (stored once, not processed
/// again), and for an authentic body that is not an envelope (stored as
/// `unknown`: a retry would not fix it). If the inbox cannot commit (full
/// disk, locked database), 503, so Gemini retries: never a 2xx for a delivery
/// that is not safely stored.
async fn receive(State(state): State<AppState>, webhook: VerifiedWebhook<GeminiVerifier>) -> StatusCode {
    let VerifiedWebhook { id, timestamp, body, verified, .. } = webhook;
    let GeminiVerified { mode, authenticated, envelope, .. } = verified;
    match &mode {
        Mode::Static { key } if *key > 0 => tracing::info!(%id, key, "signed with the previous secret"),
        Mode::Dynamic(token) if authenticated == Authenticated::BearerToken => {
            tracing::info!(%id, kid = %token.kid, "dynamic: sender authenticated, body not bound by the token");
        }
        _ => {}
    }
    let event_type = match &envelope {
        Ok(envelope) => envelope.event.kind().to_owned(),
        Err(error) => {
            tracing::warn!(%id, %error, "authentic body is not a Gemini envelope; stored as unknown");
            "unknown".to_owned()
        }
    };
    let delivery = NewDelivery {
        webhook_id: id,
        event_type,
        webhook_timestamp: i64::try_from(timestamp.as_unix_secs()).unwrap_or(i64::MAX),
        body: body.to_vec(),
        authenticated: authenticated.as_str().to_owned(),
        received_at: (state.clock)(),
    };
    let id = delivery.webhook_id.clone();
    match state.inbox.insert(delivery).await {
        Ok(Inserted::New) => StatusCode::NO_CONTENT,
        Ok(Inserted::Duplicate) => {
            tracing::info!(%id, "duplicate delivery, acknowledged again");
            StatusCode::NO_CONTENT
        }
        Err(error) => {
            tracing::error!(%id, %error, "cannot commit the delivery: 503, the sender will retry");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
