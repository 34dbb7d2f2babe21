#![doc = include_str!("../README.md")]

mod app;
mod config;
mod handler;
pub mod metrics;

pub use app::{AppState, COMMIT_TIMEOUT, MAX_BODY, metrics_router, router};
pub use config::{Config, DEFAULT_CONCURRENCY};
pub use handler::Handler;
pub use webhook_signature_gemini::{Authenticated, Envelope, Event, EventData, NotAnEnvelope};
