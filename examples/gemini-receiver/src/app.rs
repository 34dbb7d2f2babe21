//! The router: verify, deduplicate, acknowledge, hand over.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::sync::mpsc;
use webhook_signature::{Headers, Timestamp};
use webhook_signature_gemini::{Authenticated, Envelope, JwksCache, Mode, NotAnEnvelope, Receiver};

use crate::Deduplicator;

/// The largest body accepted; Gemini's envelopes are a few hundred bytes.
pub const MAX_BODY: usize = 256 * 1024;

/// What the handler needs, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    /// Static secrets (current first) and, if an audience is configured, the dynamic mode.
    pub receiver: Arc<Receiver>,
    /// Google's JWKS (or a test's), fetched on the first dynamic delivery.
    pub jwks: Arc<JwksCache>,
    /// Remembers accepted message ids.
    pub dedup: Arc<dyn Deduplicator>,
    /// Where accepted deliveries go; a worker processes them after the 2xx.
    pub events: mpsc::UnboundedSender<Accepted>,
    /// The clock, passed in so tests can fix it.
    pub now: fn() -> Timestamp,
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

/// `POST /webhooks/gemini`, with the body limit.
pub fn router(state: AppState, max_body: usize) -> Router {
    Router::new()
        .route("/webhooks/gemini", post(receive))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// Verifies the raw bytes, then answers at once: 204 accepted (or already
/// accepted: a retry must get 2xx, or Gemini keeps retrying; also for an
/// authentic body that is not an envelope, which a retry would not fix), 401
/// for a bad signature or token. axum answers 413 above the body limit before
/// this runs.
async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let headers = match Headers::from_header_map(&headers) {
        Ok(headers) => headers,
        Err(error) => {
            eprintln!("rejected delivery: {error}");
            return StatusCode::BAD_REQUEST;
        }
    };
    let delivery = match state.receiver.verify_fetching(&headers, &body, (state.now)(), &state.jwks).await {
        Ok(delivery) => delivery,
        Err(error) => {
            eprintln!("rejected delivery: {error}");
            return StatusCode::UNAUTHORIZED;
        }
    };
    let id = delivery.id;
    match &delivery.mode {
        Mode::Static { key } if *key > 0 => eprintln!("{id}: signed with the previous secret (key #{key})"),
        Mode::Dynamic(verified) if delivery.authenticated == Authenticated::BearerToken => {
            eprintln!(
                "{id}: dynamic, key {}: sender authenticated, body not bound by the token",
                verified.kid
            );
        }
        _ => {}
    }
    if !state.dedup.first_delivery(id) {
        eprintln!("{id}: duplicate delivery, acknowledged again");
        return StatusCode::NO_CONTENT;
    }
    if let Err(error) = &delivery.envelope {
        eprintln!("{id}: authentic, but {error}; acknowledged");
    }
    let accepted =
        Accepted { id: id.to_owned(), authenticated: delivery.authenticated, envelope: delivery.envelope };
    // The worker may have stopped during shutdown; the delivery is still acknowledged.
    let _ = state.events.send(accepted);
    StatusCode::NO_CONTENT
}
