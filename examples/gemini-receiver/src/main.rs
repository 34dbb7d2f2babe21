//! Runs the receiver. Environment:
//! - `GEMINI_WEBHOOK_SECRET` (and, during a rotation, `GEMINI_WEBHOOK_PREVIOUS_SECRET`): static mode;
//! - `GEMINI_WEBHOOK_AUDIENCE` (comma-separated), `GEMINI_WEBHOOK_JWKS_URL` (default Google's): dynamic mode;
//! - `PORT` (default 8080), `HOST` (default `0.0.0.0`);
//! - `DATABASE_URL=postgres://…` for a shared PostgreSQL inbox, else the SQLite
//!   file `GEMINI_RECEIVER_DB` (default `gemini-inbox.sqlite3`);
//! - `GEMINI_RECEIVER_INSTANCE`, `GEMINI_RECEIVER_LEASE_SECS`, `GEMINI_RECEIVER_HANDLER_LOG`.

use std::time::Duration;

use gemini_receiver::{AppState, Config, Handler, MAX_BODY, router};
use webhook_signature_axum::WebhookConfig;
use webhook_signature_gemini::GeminiVerifier;
use webhook_signature_inbox::{Worker, run_retention, unix_now};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = Config::from_env()?;
    let inbox = config.database.open().await?;

    let handler = Handler { instance: config.instance.clone(), log: config.handler_log.clone() };
    let worker = Worker::new(inbox.clone(), config.instance.clone()).with_lease(config.lease);
    tokio::spawn(async move { worker.run(|row| std::future::ready(handler.handle(&row))).await });
    tokio::spawn(run_retention(inbox.clone(), Duration::from_secs(3600), unix_now));

    let webhooks =
        WebhookConfig::new(GeminiVerifier::new(config.receiver, config.jwks)).with_max_body(MAX_BODY);
    let state = AppState { webhooks, inbox, clock: unix_now };
    let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port)).await?;
    tracing::info!(addr = %listener.local_addr()?, instance = %config.instance, "listening");
    axum::serve(listener, router(state)).await?;
    Ok(())
}
