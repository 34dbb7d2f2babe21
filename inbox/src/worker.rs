//! Workers: claim committed rows under a lease, call the handler, record the outcome.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::delivery::{Claimed, Failed};
use crate::error::InboxError;
use crate::inbox::Inbox;

/// Unix seconds from the system clock.
#[must_use]
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Claims rows and hands them to a handler, one at a time.
///
/// A row is handled at least once: if the worker dies after its handler ran
/// but before `processed_at` was committed, the lease expires and another
/// worker (or this one, restarted) handles it again. Rows whose lease expired
/// are picked up on start like any other due row.
#[derive(Clone, Debug)]
pub struct Worker {
    inbox: Inbox,
    id: String,
    lease: Duration,
    poll: Duration,
    batch: usize,
    clock: fn() -> i64,
}

impl Worker {
    /// A worker named `id` (unique per process: it owns its leases).
    #[must_use]
    pub fn new(inbox: Inbox, id: impl Into<String>) -> Self {
        Self {
            inbox,
            id: id.into(),
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(50),
            batch: 16,
            clock: unix_now,
        }
    }

    /// How long a claim lasts before another worker may take the row (default 60 s).
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long to wait when nothing is due (default 50 ms).
    #[must_use]
    pub fn with_poll(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// The clock, Unix seconds, for tests.
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }

    /// The worker's name, as written to `claimed_by` and `processed_by`.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs forever: claim, handle, record; wait when nothing is due.
    pub async fn run<H, F>(&self, handler: H)
    where
        H: Fn(Claimed) -> F,
        F: Future<Output = Result<(), String>>,
    {
        loop {
            match self.run_once(&handler).await {
                Ok(0) => tokio::time::sleep(self.poll).await,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, worker = %self.id, "inbox worker cannot claim; retrying");
                    tokio::time::sleep(self.poll).await;
                }
            }
        }
    }

    /// Claims one batch and handles it; returns how many rows it claimed.
    ///
    /// # Errors
    /// [`InboxError`] if the database fails.
    pub async fn run_once<H, F>(&self, handler: &H) -> Result<usize, InboxError>
    where
        H: Fn(Claimed) -> F,
        F: Future<Output = Result<(), String>>,
    {
        let claimed = self.inbox.claim(&self.id, self.lease, (self.clock)(), self.batch).await?;
        let count = claimed.len();
        for row in claimed {
            let id = row.webhook_id.clone();
            match handler(row).await {
                Ok(()) => {
                    if !self.inbox.complete(&id, &self.id, (self.clock)()).await? {
                        tracing::warn!(webhook_id = %id, worker = %self.id, "lease lost before completion");
                    }
                }
                Err(error) => match self.inbox.fail(&id, &self.id, (self.clock)()).await? {
                    Failed::Retry { next_attempt_at } => {
                        tracing::warn!(webhook_id = %id, %error, next_attempt_at, "handler failed; will retry");
                    }
                    Failed::DeadLetter => {
                        tracing::error!(webhook_id = %id, %error, "handler failed for the last time: dead letter");
                    }
                    Failed::LeaseLost => {
                        tracing::warn!(webhook_id = %id, %error, "handler failed after lease loss")
                    }
                },
            }
        }
        Ok(count)
    }
}

/// Deletes old processed and failed rows every `every`, forever.
pub async fn run_retention(inbox: Inbox, every: Duration, clock: fn() -> i64) {
    loop {
        match inbox.purge(clock()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "inbox retention"),
            Err(error) => tracing::warn!(%error, "inbox retention failed"),
        }
        tokio::time::sleep(every).await;
    }
}
