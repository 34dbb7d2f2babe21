//! A Gemini API webhook receiver on axum.
//!
//! It verifies the raw body bytes (never re-serialised JSON) against the
//! current and the previous secret (Gemini keeps the previous one valid for
//! 24 hours after a rotation), limits the body size, deduplicates on
//! `webhook-id` (deliveries are at-least-once and retried for 24 hours),
//! answers 2xx at once and hands the typed event to a background worker.

mod app;
mod dedup;
mod envelope;

pub use app::{AppState, MAX_BODY, router};
pub use dedup::{Deduplicator, InMemoryDeduplicator};
pub use envelope::{Envelope, Event};
