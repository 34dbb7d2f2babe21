//! A Gemini API webhook receiver on axum, for both of Gemini's modes.
//!
//! It verifies the raw body bytes (never re-serialised JSON): static
//! deliveries against the current and the previous secret (Gemini keeps the
//! previous one valid for 24 hours after a rotation), dynamic ones (an RS256
//! JWT) against Google's JWKS, fetched only when the first dynamic delivery
//! arrives. It limits the body size, deduplicates on `webhook-id` (deliveries
//! are at-least-once and retried for 24 hours), answers 2xx at once and hands
//! the typed event to a background worker.

mod app;
mod dedup;

pub use app::{Accepted, AppState, MAX_BODY, router};
pub use dedup::{Deduplicator, InMemoryDeduplicator};
pub use webhook_signature_gemini::{Authenticated, Envelope, Event, EventData, NotAnEnvelope};
