//! Runs the receiver: `GEMINI_WEBHOOK_SECRET` (and, during a rotation,
//! `GEMINI_WEBHOOK_PREVIOUS_SECRET`), on `PORT` (default 8080).

use std::sync::Arc;

use gemini_receiver::{AppState, Event, InMemoryDeduplicator, MAX_BODY, router};
use tokio::sync::mpsc;
use webhook_signature::{Timestamp, Webhook};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut keys = vec![Webhook::new(&std::env::var("GEMINI_WEBHOOK_SECRET")?)?];
    if let Ok(previous) = std::env::var("GEMINI_WEBHOOK_PREVIOUS_SECRET") {
        keys.push(Webhook::new(&previous)?);
    }
    let (events, mut queue) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = queue.recv().await {
            handle(event);
        }
    });
    let state = AppState {
        keys: Arc::new(keys),
        dedup: Arc::new(InMemoryDeduplicator::default()),
        events,
        now: Timestamp::now,
    };
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("0.0.0.0:{port}")).await?;
    eprintln!("listening on {}", listener.local_addr()?);
    axum::serve(listener, router(state, MAX_BODY)).await?;
    Ok(())
}

/// The work done after the 2xx: here, a log line per event.
fn handle(event: Event) {
    match event {
        Event::VideoGenerated { id, output_file_uri, .. } => {
            println!("video ready: {id} at {output_file_uri}")
        }
        Event::BatchSucceeded { id, output_file_uri } => println!("batch done: {id} at {output_file_uri}"),
        Event::Failed { kind, id, error_code, error_message } => {
            println!("{kind}: {id}: {error_code}: {error_message}");
        }
        Event::Status { kind, id } => println!("{kind}: {id}"),
        Event::Unknown { kind } => println!("unknown event type {kind}"),
    }
}
