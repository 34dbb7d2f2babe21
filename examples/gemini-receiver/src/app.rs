//! The router: verify, deduplicate, acknowledge, hand over.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::sync::mpsc;
use webhook_signature::{Headers, Timestamp, Webhook};

use crate::{Deduplicator, Event};

/// The largest body accepted; Gemini's envelopes are a few hundred bytes.
pub const MAX_BODY: usize = 256 * 1024;

/// What the handler needs, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    /// The current secret first, then the previous one during a rotation.
    pub keys: Arc<Vec<Webhook>>,
    /// Remembers accepted message ids.
    pub dedup: Arc<dyn Deduplicator>,
    /// Where verified events go; a worker processes them after the 2xx.
    pub events: mpsc::UnboundedSender<Event>,
    /// The clock, passed in so tests can fix it.
    pub now: fn() -> Timestamp,
}

/// `POST /webhooks/gemini`, with the body limit.
pub fn router(state: AppState, max_body: usize) -> Router {
    Router::new()
        .route("/webhooks/gemini", post(receive))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// Verifies the raw bytes, then answers at once: 204 accepted (or already
/// accepted: a retry must get 2xx, or Gemini keeps retrying), 400 for a
/// verified body that is not an envelope, 401 for a bad signature. axum
/// answers 413 above the body limit before this runs.
async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let verified = Headers::from_header_map(&headers)
        .and_then(|h| Webhook::verify_any(&state.keys, &h, &body, (state.now)()).map(|key| (h.id, key)));
    let (id, key) = match verified {
        Ok(verified) => verified,
        Err(error) => {
            eprintln!("rejected delivery: {error}");
            return StatusCode::UNAUTHORIZED;
        }
    };
    if key > 0 {
        eprintln!("{id}: signed with the previous secret (key #{key})");
    }
    if !state.dedup.first_delivery(id) {
        eprintln!("{id}: duplicate delivery, acknowledged again");
        return StatusCode::NO_CONTENT;
    }
    match Event::parse(&body) {
        Ok(event) => {
            if let Event::Unknown { kind } = &event {
                eprintln!("{id}: unknown event type {kind:?}, acknowledged");
            }
            // The worker may have stopped during shutdown; the delivery is still acknowledged.
            let _ = state.events.send(event);
            StatusCode::NO_CONTENT
        }
        Err(error) => {
            eprintln!("{id}: verified body is not a Gemini envelope: {error}");
            StatusCode::BAD_REQUEST
        }
    }
}
