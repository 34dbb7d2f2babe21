//! A Gemini API webhook receiver on axum that loses nothing.
//!
//! It verifies the raw body bytes in both of Gemini's modes (static `v1`
//! signatures against the current and the previous secret; dynamic RS256
//! tokens against Google's JWKS, fetched only when the first one arrives),
//! commits each verified delivery to a durable inbox (SQLite by default,
//! PostgreSQL for several instances) and only then answers 2xx. Workers
//! process the inbox under leases, retry failures with backoff, and leave
//! dead letters for an operator.

mod app;
mod config;
mod handler;
pub mod metrics;

pub use app::{AppState, MAX_BODY, metrics_router, router};
pub use config::Config;
pub use handler::Handler;
pub use webhook_signature_gemini::{Authenticated, Envelope, Event, EventData, NotAnEnvelope};
