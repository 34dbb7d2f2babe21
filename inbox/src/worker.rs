//! Workers: claim committed rows under a lease, call the handler, record the outcome.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::join_all;
use tokio::sync::watch;

use crate::delivery::{Claimed, Failed};
use crate::error::InboxError;
use crate::inbox::Inbox;
use crate::worker_stats::{Handled, WorkerStats};

/// Unix seconds from the system clock.
#[must_use]
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Claims rows and hands them to a handler, one at a time per loop (one
/// loop unless [`with_concurrency`](Self::with_concurrency) says more): a row
/// is claimed only when its handler is about to run, so no claim waits out
/// its lease behind a slow handler, and a stopping worker holds no unstarted
/// claim. A loop claims its next row together with recording the last one's
/// outcome: one commit to wait for per row.
///
/// A row is handled at least once: if the worker dies after its handler ran
/// but before `processed_at` was committed, the lease expires and another
/// worker (or this one, restarted) handles it again. Rows whose lease expired
/// are picked up on start like any other due row. The same holds between
/// the loops of one worker, which share its name: a row whose lease ran out
/// while its handler still ran (the database away for two thirds of a lease)
/// may be claimed and handled again by another loop.
#[derive(Clone, Debug)]
pub struct Worker {
    inbox: Inbox,
    id: String,
    lease: Duration,
    poll: Duration,
    concurrency: usize,
    handler_timeout: Duration,
    clock: fn() -> i64,
    stats: WorkerStats,
}

/// How long a handler may run unless [`Worker::with_handler_timeout`] says
/// otherwise: long enough to download a large Veo video, short enough that a
/// handler stuck on a peer that never answers does not hold its row (and its
/// loop) forever while its lease is renewed.
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(15 * 60);

impl Worker {
    /// A worker named `id` (unique per process: it owns its leases).
    #[must_use]
    pub fn new(inbox: Inbox, id: impl Into<String>) -> Self {
        Self {
            inbox,
            id: id.into(),
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(50),
            concurrency: 1,
            handler_timeout: DEFAULT_HANDLER_TIMEOUT,
            clock: unix_now,
            stats: WorkerStats::new(),
        }
    }

    /// How long a claim lasts before another worker may take the row (default 60 s).
    #[must_use]
    pub fn with_lease(self, lease: Duration) -> Self {
        Self { lease, ..self }
    }

    /// How long to wait when nothing is due (default 50 ms).
    #[must_use]
    pub fn with_poll(self, poll: Duration) -> Self {
        Self { poll, ..self }
    }

    /// How many rows are handled at once (default 1), each by its own loop
    /// that claims one row, handles it and records the outcome: a slow
    /// handler holds up only its own loop, and the inbox's commits are shared
    /// by the loops' claims and outcomes. The loops share the worker's name.
    /// At least 1.
    #[must_use]
    pub fn with_concurrency(self, concurrency: usize) -> Self {
        Self { concurrency: concurrency.max(1), ..self }
    }

    /// How long one handler call may run (default [`DEFAULT_HANDLER_TIMEOUT`]).
    /// Past it the call is dropped at its next `.await` and counted as a
    /// failure: the row is retried after its backoff, and becomes a dead
    /// letter after the last attempt, like any other failure.
    #[must_use]
    pub fn with_handler_timeout(self, timeout: Duration) -> Self {
        Self { handler_timeout: timeout, ..self }
    }

    /// The clock, Unix seconds, for tests.
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }

    /// Counts the outcomes into `stats` (to share one handle with metrics,
    /// or between workers), instead of the worker's own.
    #[must_use]
    pub fn with_stats(self, stats: WorkerStats) -> Self {
        Self { stats, ..self }
    }

    /// The outcomes recorded so far, by this worker and its clones.
    #[must_use]
    pub fn stats(&self) -> &WorkerStats {
        &self.stats
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
        self.run_until(handler, std::future::pending()).await;
    }

    /// Runs until `stop` resolves. The rows whose handlers are running when
    /// it does are finished and recorded first; no other row is claimed after.
    pub async fn run_until<H, F>(&self, handler: H, stop: impl Future<Output = ()>)
    where
        H: Fn(Claimed) -> F,
        F: Future<Output = Result<(), String>>,
    {
        let (stopping, stopped) = watch::channel(false);
        let loops = join_all((0..self.concurrency).map(|_| self.handle_rows(&handler, stopped.clone())));
        let mut loops = std::pin::pin!(loops);
        tokio::select! {
            _ = &mut loops => {}
            () = stop => {
                let _ = stopping.send(true);
                loops.await;
            }
        }
        tracing::info!(worker = %self.id, "inbox worker stopped");
    }

    /// One of the worker's loops: claim, handle, record; wait when nothing
    /// is due; stop between rows once `stopped` turns true. A handler's
    /// outcome and the claim of the loop's next row are sent together, so
    /// the SQLite writer commits both at once: one commit to wait for per
    /// row instead of two.
    async fn handle_rows<H, F>(&self, handler: &H, mut stopped: watch::Receiver<bool>)
    where
        H: Fn(Claimed) -> F,
        F: Future<Output = Result<(), String>>,
    {
        let mut next = None;
        // Between rows only: a handler is never cut off half-way, and a row
        // claimed is handled.
        while next.is_some() || !*stopped.borrow_and_update() {
            let row = match next.take() {
                Some(row) => row,
                None => match self.claim_one().await {
                    Ok(Some(row)) => row,
                    nothing => {
                        if let Err(error) = nothing {
                            tracing::warn!(%error, worker = %self.id, "inbox worker cannot claim; retrying");
                        }
                        if self.pause(&mut stopped).await {
                            break;
                        }
                        continue;
                    }
                },
            };
            let (id, outcome) = self.run_handler(handler, row).await;
            let claim_next = async { if *stopped.borrow() { Ok(None) } else { self.claim_one().await } };
            let (recorded, claimed) = tokio::join!(self.record(&id, outcome), claim_next);
            if let Err(error) = recorded {
                tracing::warn!(webhook_id = %id, %error, worker = %self.id, "cannot record the outcome; the row will run again when its lease ends");
            }
            match claimed {
                Ok(row) => next = row,
                Err(error) => {
                    tracing::warn!(%error, worker = %self.id, "inbox worker cannot claim; retrying")
                }
            }
        }
    }

    /// Waits one poll interval; `true` if the worker is stopping.
    async fn pause(&self, stopped: &mut watch::Receiver<bool>) -> bool {
        tokio::select! {
            // A change, or the sender gone: either way, stop.
            _ = stopped.changed() => true,
            () = tokio::time::sleep(self.poll) => false,
        }
    }

    /// Claims the next due row, if any.
    async fn claim_one(&self) -> Result<Option<Claimed>, InboxError> {
        Ok(self.inbox.claim(&self.id, self.lease, (self.clock)(), 1).await?.pop())
    }

    /// Claims one due row and handles it; returns how many rows it claimed (0 or 1).
    ///
    /// # Errors
    /// [`InboxError`] if the database fails.
    pub async fn run_once<H, F>(&self, handler: &H) -> Result<usize, InboxError>
    where
        H: Fn(Claimed) -> F,
        F: Future<Output = Result<(), String>>,
    {
        let Some(row) = self.claim_one().await? else { return Ok(0) };
        let (id, outcome) = self.run_handler(handler, row).await;
        self.record(&id, outcome).await?;
        Ok(1)
    }

    /// Runs the handler on a claimed row, renewing the row's lease while it
    /// runs, so a handler slower than the lease is never run a second time
    /// elsewhere meanwhile; but no longer than the handler timeout. Returns
    /// the row's id with the outcome.
    async fn run_handler<H, F>(&self, handler: &H, row: Claimed) -> (String, Result<(), String>)
    where
        H: Fn(Claimed) -> F,
        F: Future<Output = Result<(), String>>,
    {
        let id = row.webhook_id.clone();
        let outcome = tokio::select! {
            outcome = handler(row) => outcome,
            never = self.keep_leased(&id) => match never {},
            () = tokio::time::sleep(self.handler_timeout) => {
                Err(format!("the handler did not finish within {:?}", self.handler_timeout))
            }
        };
        (id, outcome)
    }

    /// Records a handler's outcome on row `id`: processed, or a retry or a
    /// dead letter; and counts how it ended.
    async fn record(&self, id: &str, outcome: Result<(), String>) -> Result<(), InboxError> {
        let handled = self.write_outcome(id, outcome).await;
        self.stats.record(match &handled {
            Ok(handled) => *handled,
            Err(_) => Handled::Unrecorded,
        });
        handled.map(drop)
    }

    async fn write_outcome(&self, id: &str, outcome: Result<(), String>) -> Result<Handled, InboxError> {
        Ok(match outcome {
            Ok(()) => {
                if self.persist(id, || self.inbox.complete(id, &self.id, (self.clock)())).await? {
                    Handled::Processed
                } else {
                    tracing::warn!(webhook_id = %id, worker = %self.id, "lease lost before completion");
                    Handled::LeaseLost
                }
            }
            Err(error) => match self.persist(id, || self.inbox.fail(id, &self.id, (self.clock)())).await? {
                Failed::Retry { next_attempt_at } => {
                    tracing::warn!(webhook_id = %id, %error, next_attempt_at, "handler failed; will retry");
                    Handled::Retried
                }
                Failed::DeadLetter => {
                    tracing::error!(webhook_id = %id, %error, "handler failed for the last time: dead letter");
                    Handled::DeadLettered
                }
                Failed::LeaseLost => {
                    tracing::warn!(webhook_id = %id, %error, "handler failed after lease loss; not recorded");
                    Handled::LeaseLost
                }
            },
        })
    }

    /// Records a handler's outcome, retrying while the database is away (a
    /// restart, a failover) for up to one lease: the handler already ran, and
    /// giving up now would let the lease expire and the row run again. (The
    /// last renewal was at most a third of a lease ago: two thirds are left.)
    async fn persist<T, F>(&self, id: &str, mut record: impl FnMut() -> F) -> Result<T, InboxError>
    where
        F: Future<Output = Result<T, InboxError>>,
    {
        let started = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            match record().await {
                Ok(value) => return Ok(value),
                Err(error) if started.elapsed() + pause < self.lease * 2 / 3 => {
                    tracing::warn!(webhook_id = %id, %error, "cannot record the outcome yet; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Renews the lease on `id` every third of the lease, forever; the
    /// handler's end cancels it.
    async fn keep_leased(&self, id: &str) -> core::convert::Infallible {
        let every = (self.lease / 3).max(Duration::from_millis(100));
        loop {
            tokio::time::sleep(every).await;
            match self.inbox.renew(id, &self.id, self.lease, (self.clock)()).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(webhook_id = %id, worker = %self.id, "lease lost while handling"),
                Err(error) => tracing::warn!(webhook_id = %id, %error, "cannot renew the lease; retrying"),
            }
        }
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
