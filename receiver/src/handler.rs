//! The work done after the 2xx, by the inbox's worker: here, a log line per
//! event, and, for the crash test, one line per handler call in
//! `GEMINI_RECEIVER_HANDLER_LOG`.

use std::path::PathBuf;

use tokio::io::AsyncWriteExt;

use webhook_signature_gemini::{Envelope, Event};
use webhook_signature_inbox::{Claimed, HandlerError};

/// Handles one committed delivery.
#[derive(Clone, Debug)]
pub struct Handler {
    /// This process's name in the handler log.
    pub instance: String,
    /// Where each call is recorded as `{instance} {webhook_id}`, if anywhere.
    pub log: Option<PathBuf>,
}

impl Handler {
    /// Processes `row`: records the call, then acts on the event.
    ///
    /// # Errors
    /// If the call cannot be recorded: the row is retried with backoff.
    pub async fn handle(&self, row: &Claimed) -> Result<(), HandlerError> {
        if let Some(path) = &self.log {
            // One short append per call: atomic with O_APPEND, so instances can
            // share the file. tokio's file runs on the blocking pool, off the
            // runtime's worker threads.
            let line = format!("{} {}\n", self.instance, row.webhook_id);
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?;
            file.write_all(line.as_bytes()).await?;
            file.flush().await?;
        }
        let Ok(envelope) = Envelope::parse(&row.body) else {
            tracing::warn!(webhook_id = %row.webhook_id, "not an envelope: left for review");
            return Ok(());
        };
        let event = &envelope.event;
        let data = event.data().cloned().unwrap_or_default();
        match event {
            Event::BatchFailed(_) | Event::InteractionFailed(_) => tracing::warn!(
                webhook_id = %row.webhook_id, kind = event.kind(), id = ?data.id,
                code = ?data.error_code, message = ?data.error_message, "job failed"
            ),
            _ => tracing::info!(
                webhook_id = %row.webhook_id, kind = event.kind(), id = ?data.id,
                output = ?data.output_file_uri, authenticated = %row.authenticated, "event"
            ),
        }
        Ok(())
    }
}
