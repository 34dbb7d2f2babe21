#![doc = include_str!("../README.md")]

mod app;
mod call_log;
mod config;
pub mod forward;
mod handler;
pub mod metrics;

pub use app::{AppState, COMMIT_TIMEOUT, MAX_BODY, metrics_router, router};
pub use call_log::CallLog;
pub use config::{Config, DEFAULT_CONCURRENCY, DEFAULT_FORWARD_TIMEOUT, Forwarding};
pub use forward::{ForwardError, Forwarder};
pub use handler::Handler;
pub use webhook_signature_gemini::{Authenticated, Envelope, Event, EventData, NotAnEnvelope};
