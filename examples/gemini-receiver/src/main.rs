//! Runs the receiver on `PORT` (default 8080):
//! - static mode: `GEMINI_WEBHOOK_SECRET` (and, during a rotation,
//!   `GEMINI_WEBHOOK_PREVIOUS_SECRET`);
//! - dynamic mode: `GEMINI_WEBHOOK_AUDIENCE` (comma-separated), with the JWKS
//!   from `GEMINI_WEBHOOK_JWKS_URL` (default: Google's), fetched only when the
//!   first dynamic delivery arrives.

use std::sync::Arc;

use gemini_receiver::{Accepted, AppState, Event, InMemoryDeduplicator, MAX_BODY, router};
use tokio::sync::mpsc;
use webhook_signature::Webhook;
use webhook_signature_axum::WebhookConfig;
use webhook_signature_gemini::{DynamicVerifier, GOOGLE_JWKS_URL, GeminiVerifier, JwksCache, Receiver};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let mut keys = Vec::new();
    for name in ["GEMINI_WEBHOOK_SECRET", "GEMINI_WEBHOOK_PREVIOUS_SECRET"] {
        if let Some(secret) = env(name) {
            keys.push(Webhook::new(&secret).map_err(|e| format!("{name}: {e}"))?);
        }
    }
    let audiences: Vec<String> = env("GEMINI_WEBHOOK_AUDIENCE")
        .map(|list| list.split(',').map(|aud| aud.trim().to_owned()).filter(|aud| !aud.is_empty()).collect())
        .unwrap_or_default();
    if keys.is_empty() && audiences.is_empty() {
        return Err(
            "set GEMINI_WEBHOOK_SECRET (static webhooks) or GEMINI_WEBHOOK_AUDIENCE (dynamic ones)".into()
        );
    }
    let mut receiver = Receiver::new(keys);
    if !audiences.is_empty() {
        receiver = receiver.with_dynamic(DynamicVerifier::new(audiences));
    }
    let jwks = JwksCache::new(env("GEMINI_WEBHOOK_JWKS_URL").unwrap_or_else(|| GOOGLE_JWKS_URL.to_owned()));

    let (events, mut queue) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(accepted) = queue.recv().await {
            handle(accepted);
        }
    });
    let webhooks = WebhookConfig::new(GeminiVerifier::new(receiver, jwks)).with_max_body(MAX_BODY);
    let state = AppState { webhooks, dedup: Arc::new(InMemoryDeduplicator::default()), events };
    let port = env("PORT").unwrap_or_else(|| "8080".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("0.0.0.0:{port}")).await?;
    eprintln!("listening on {}", listener.local_addr()?);
    axum::serve(listener, router(state)).await?;
    Ok(())
}

/// The work done after the 2xx: here, a log line per event.
fn handle(accepted: Accepted) {
    let Accepted { id, authenticated, envelope } = accepted;
    let Ok(envelope) = envelope else { return println!("{id}: not an envelope, stored for review") };
    let event = &envelope.event;
    let data = event.data().cloned().unwrap_or_default();
    let field = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
    match event {
        Event::VideoGenerated(_) | Event::BatchSucceeded(_) => {
            println!("{id} {}: {} ready at {}", event.kind(), field(&data.id), field(&data.output_file_uri));
        }
        Event::BatchFailed(_) | Event::InteractionFailed(_) => println!(
            "{id} {}: {}: {}: {}",
            event.kind(),
            field(&data.id),
            field(&data.error_code),
            field(&data.error_message)
        ),
        _ => println!("{id} {} ({}): {}", event.kind(), authenticated.as_str(), field(&data.id)),
    }
}
