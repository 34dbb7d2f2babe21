//! The work done after the 2xx, by the inbox's worker: forward the delivery
//! to the application (`GEMINI_RECEIVER_FORWARD_URL`), or, without one, log
//! a line per event.

use webhook_signature_gemini::{Envelope, Event};
use webhook_signature_inbox::{Claimed, HandlerError};

use crate::forward::Forwarder;

/// Handles one committed delivery.
#[derive(Clone, Debug)]
pub enum Handler {
    /// A log line per event: the receiver on its own.
    Log,
    /// POST it to the application; anything but a 2xx is retried.
    Forward(Forwarder),
}

impl Handler {
    /// Processes `row`.
    ///
    /// # Errors
    /// If the application did not take it (forwarding): the row is retried
    /// with backoff, and the error is kept as its `last_error`.
    pub async fn handle(&self, row: &Claimed) -> Result<(), HandlerError> {
        match self {
            Self::Log => {
                log_event(row);
                Ok(())
            }
            Self::Forward(forwarder) => match forwarder.forward(row).await {
                Ok(()) => {
                    tracing::debug!(webhook_id = %row.webhook_id, "forwarded");
                    Ok(())
                }
                Err(error) => {
                    tracing::warn!(
                        webhook_id = %row.webhook_id, attempt = row.attempts, %error,
                        "forward failed: retried after a backoff"
                    );
                    Err(error.into())
                }
            },
        }
    }
}

fn log_event(row: &Claimed) {
    let Ok(envelope) = Envelope::parse(&row.body) else {
        tracing::warn!(webhook_id = %row.webhook_id, "not an envelope: left for review");
        return;
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
}
