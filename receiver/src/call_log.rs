//! A test hook, not part of handling: with `GEMINI_RECEIVER_HANDLER_LOG`
//! set, every handler call is first recorded as `{instance} {webhook_id}`,
//! so the crash tests can count how often each delivery was handled and by
//! whom. A call that cannot be recorded fails like a handler error (the
//! retry tests use a path in a missing folder to make every call fail).

use std::path::PathBuf;

use tokio::io::AsyncWriteExt;
use webhook_signature_inbox::{Claimed, HandlerError};

/// Where calls are recorded, and under which name.
#[derive(Clone, Debug)]
pub struct CallLog {
    /// This process's name in the log.
    pub instance: String,
    /// The file appended to.
    pub path: PathBuf,
}

impl CallLog {
    /// Appends `{instance} {webhook_id}` for `row`.
    ///
    /// # Errors
    /// If the file cannot be opened or written.
    pub async fn record(&self, row: &Claimed) -> Result<(), HandlerError> {
        // One short append per call: atomic with O_APPEND, so instances can
        // share the file. tokio's file runs on the blocking pool, off the
        // runtime's worker threads.
        let line = format!("{} {}\n", self.instance, row.webhook_id);
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        file.write_all(line.as_bytes()).await?;
        file.flush().await?;
        Ok(())
    }
}
