//! Workers: claim committed rows under a lease, run the handler, record the outcome.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::delivery::{Claimed, Failed};
use crate::error::InboxError;
use crate::inbox::Inbox;
use crate::worker_stats::{Handled, WorkerStats};

/// Unix seconds from the system clock.
#[must_use]
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// What a handler returns when it fails: any error. Its text is kept in the
/// row's `last_error`, and the row is retried on the inbox's schedule.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// How long a handler may run unless [`Worker::with_handler_timeout`] says
/// otherwise: long enough to download a large Veo video, short enough that a
/// handler stuck on a peer that never answers does not hold its row forever
/// while its lease is renewed.
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Claims rows and hands them to a handler, up to
/// [`with_concurrency`](Self::with_concurrency) at once.
///
/// Each claimed row gets a task of its own, and its handler runs on tokio's
/// blocking pool (driven by `Handle::block_on`):
/// - a handler that panics fails only its row (retried with backoff, then a
///   dead letter), and the worker goes on;
/// - the lease is renewed beside the handler, every third of a lease, on the
///   runtime's own threads: a handler that blocks its thread (synchronous I/O,
///   CPU work) holds a blocking-pool thread, never the renewals;
/// - a claim is owned by one attempt (a random token): if the lease is lost
///   (another claim took the row, or no renewal succeeded before the lease
///   ran out: each renewal is bounded by what is left of the lease), the
///   handler is cancelled at its next `.await` and its outcome is not
///   written, so a row is not run by two attempts at once.
///
/// A row is handled at least once: if the process dies after its handler ran
/// but before `processed_at` was committed, the row is due again after its
/// lease and its attempt's backoff, and is handled again. A row whose
/// attempts are used up is never claimed again: [`run_retention`] makes a
/// dead letter of it.
///
/// When idle, the worker waits for a row committed by this process (it wakes
/// at once) or for its poll interval (rows made due by another process: an
/// operator's retry, another instance, a backoff that ended).
#[derive(Clone, Debug)]
pub struct Worker {
    inbox: Inbox,
    id: String,
    lease: Duration,
    poll: Duration,
    concurrency: usize,
    handler_timeout: Duration,
    clock: Option<fn() -> i64>,
    stats: WorkerStats,
}

impl Worker {
    /// A worker named `id` (written to `claimed_by` and `processed_by`).
    #[must_use]
    pub fn new(inbox: Inbox, id: impl Into<String>) -> Self {
        Self {
            inbox,
            id: id.into(),
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            concurrency: 1,
            handler_timeout: DEFAULT_HANDLER_TIMEOUT,
            clock: None,
            stats: WorkerStats::new(),
        }
    }

    /// How long a claim lasts before another worker may take the row (default
    /// 60 s, whole seconds, at least 1 s); renewed every third of it while
    /// the handler runs.
    #[must_use]
    pub fn with_lease(self, lease: Duration) -> Self {
        Self { lease: lease.max(Duration::from_secs(1)), ..self }
    }

    /// How long to wait, when nothing is due, before looking again for rows
    /// that another process made due (default 1 s). Rows this process commits
    /// wake the worker at once.
    #[must_use]
    pub fn with_poll(self, poll: Duration) -> Self {
        Self { poll, ..self }
    }

    /// How many rows are handled at once (default 1, at least 1).
    #[must_use]
    pub fn with_concurrency(self, concurrency: usize) -> Self {
        Self { concurrency: concurrency.max(1), ..self }
    }

    /// How long one handler call may run (default [`DEFAULT_HANDLER_TIMEOUT`]).
    /// Past it the call is cancelled and counted as a failure: the row is
    /// retried after its backoff, like any other failure.
    #[must_use]
    pub fn with_handler_timeout(self, timeout: Duration) -> Self {
        Self { handler_timeout: timeout, ..self }
    }

    /// The clock, Unix seconds, for tests. Without it, leases and backoff
    /// are counted on the database's clock (PostgreSQL: the server's, so
    /// instances whose clocks disagree still agree on who holds a row).
    #[must_use]
    pub fn with_clock(self, clock: fn() -> i64) -> Self {
        Self { clock: Some(clock), ..self }
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

    fn now(&self) -> Option<i64> {
        self.clock.map(|clock| clock())
    }

    /// Runs forever: claim, handle, record; wait when nothing is due.
    pub async fn run<H, F>(&self, handler: H)
    where
        H: Fn(Claimed) -> F + Send + Sync + 'static,
        F: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        self.run_until(handler, std::future::pending()).await;
    }

    /// Runs until `stop` resolves. The rows whose handlers are running when
    /// it does are finished and recorded first; no other row is claimed
    /// after. If this future is dropped instead, the running handlers are
    /// cancelled and their rows run again after their lease and backoff.
    pub async fn run_until<H, F>(&self, handler: H, stop: impl Future<Output = ()>)
    where
        H: Fn(Claimed) -> F + Send + Sync + 'static,
        F: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let mut running = JoinSet::new();
        let mut inserted = self.inbox.inserted();
        let mut stop = std::pin::pin!(stop);
        let mut stopping = false;
        loop {
            if !stopping {
                // Seen before claiming: a row committed from here on wakes the wait below.
                inserted.borrow_and_update();
                // Every attempt that has ended frees its slot first, so one
                // claim (one commit) fills all the free slots at once.
                while let Some(ended) = running.try_join_next() {
                    log_abnormal_end(ended, &self.id);
                }
                let free = self.concurrency.saturating_sub(running.len());
                if free > 0 {
                    // Taken before the claim is sent: the lease runs from no earlier.
                    let claimed_at = Instant::now();
                    match self.inbox.claim(&self.id, self.lease, self.now(), free).await {
                        Ok(rows) => {
                            for row in rows {
                                running.spawn(self.clone().attempt(Arc::clone(&handler), row, claimed_at));
                            }
                        }
                        Err(error) => {
                            tracing::warn!(%error, worker = %self.id, "inbox worker cannot claim; retrying");
                        }
                    }
                }
            }
            if stopping && running.is_empty() {
                break;
            }
            let idle = !stopping && running.len() < self.concurrency;
            tokio::select! {
                Some(ended) = running.join_next(), if !running.is_empty() => log_abnormal_end(ended, &self.id),
                _ = inserted.changed(), if idle => {}
                () = tokio::time::sleep(self.poll), if idle => {}
                () = &mut stop, if !stopping => stopping = true,
            }
        }
        tracing::info!(worker = %self.id, "inbox worker stopped");
    }

    /// Claims the next due row, if any.
    async fn claim_one(&self) -> Result<Option<Claimed>, InboxError> {
        Ok(self.inbox.claim(&self.id, self.lease, self.now(), 1).await?.pop())
    }

    /// Claims one due row and handles it as [`run`](Self::run) would; returns
    /// how many rows it claimed (0 or 1).
    ///
    /// # Errors
    /// [`InboxError`] if the claim fails.
    pub async fn run_once<H, F>(&self, handler: H) -> Result<usize, InboxError>
    where
        H: Fn(Claimed) -> F + Send + Sync + 'static,
        F: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        let claimed_at = Instant::now();
        let Some(row) = self.claim_one().await? else { return Ok(0) };
        self.clone().attempt(Arc::new(handler), row, claimed_at).await;
        Ok(1)
    }

    /// One attempt at `row`: the handler on the blocking pool, the lease
    /// renewed beside it, the handler timeout; then the outcome, recorded and
    /// counted.
    async fn attempt<H, F>(self, handler: Arc<H>, row: Claimed, claimed_at: Instant) -> Handled
    where
        H: Fn(Claimed) -> F + Send + Sync + 'static,
        F: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        let claim = row.without_body();
        // Dropping `cancel` (the attempt ends, or is dropped) drops the
        // handler's future at its next `.await`.
        let (cancel, cancelled) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Handle::current();
        let mut task = tokio::task::spawn_blocking(move || {
            runtime.block_on(async move {
                tokio::select! {
                    outcome = handler(row) => Some(outcome),
                    _ = cancelled => None,
                }
            })
        });
        let outcome = tokio::select! {
            ended = &mut task => match ended {
                Ok(Some(Ok(()))) => Ok(()),
                Ok(Some(Err(error))) => Err(error.to_string()),
                Ok(None) => Err("the handler was cancelled".to_owned()),
                Err(ended) => {
                    let why = panic_message(ended);
                    self.stats.record_panic();
                    tracing::error!(webhook_id = %claim.webhook_id, worker = %self.id, panic = %why, "the handler panicked");
                    Err(format!("the handler panicked: {why}"))
                }
            },
            () = self.keep_leased(&claim, claimed_at) => {
                drop(cancel);
                tracing::warn!(webhook_id = %claim.webhook_id, worker = %self.id, "lease lost: the handler is cancelled, its outcome not written");
                self.stats.record(Handled::LeaseLost);
                return Handled::LeaseLost;
            }
            () = tokio::time::sleep(self.handler_timeout) => {
                Err(format!("the handler did not finish within {:?}", self.handler_timeout))
            }
        };
        // The handler is cancelled here if it has not ended (a timeout).
        drop(cancel);
        self.record(&claim, outcome).await
    }

    /// Records a handler's outcome on `claim`'s row: processed, or a retry or
    /// a dead letter; and counts how it ended.
    async fn record(&self, claim: &Claimed, outcome: Result<(), String>) -> Handled {
        let handled = match self.write_outcome(claim, outcome).await {
            Ok(handled) => handled,
            Err(error) => {
                tracing::warn!(webhook_id = %claim.webhook_id, %error, worker = %self.id, "cannot record the outcome; the row runs again after its lease");
                Handled::Unrecorded
            }
        };
        self.stats.record(handled);
        handled
    }

    async fn write_outcome(
        &self,
        claim: &Claimed,
        outcome: Result<(), String>,
    ) -> Result<Handled, InboxError> {
        let id = &claim.webhook_id;
        Ok(match outcome {
            Ok(()) => {
                if self.persist(id, || self.inbox.complete(claim, &self.id, self.now())).await? {
                    Handled::Processed
                } else {
                    tracing::warn!(webhook_id = %id, worker = %self.id, "lease lost before completion");
                    Handled::LeaseLost
                }
            }
            Err(error) => match self.persist(id, || self.inbox.fail(claim, &error, self.now())).await? {
                Failed::Retry { next_attempt_at } => {
                    tracing::warn!(webhook_id = %id, %error, attempt = claim.attempts, next_attempt_at, "handler failed; will retry");
                    Handled::Retried
                }
                Failed::DeadLetter => {
                    tracing::error!(webhook_id = %id, %error, attempt = claim.attempts, "handler failed for the last time: dead letter");
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
    /// restart, a failover) for up to two thirds of a lease: the handler
    /// already ran, and giving up now would let the row run again.
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

    /// Renews the lease on `claim` every third of the lease; returns when the
    /// lease is lost: the row was taken by another claim, or no renewal
    /// succeeded before the lease ran out. The lease is counted from when its
    /// claim or renewal was sent, less a second (the database counts whole
    /// seconds), and each renewal waits only for what is left of it: a
    /// database that hangs cannot keep a handler running past its lease.
    async fn keep_leased(&self, claim: &Claimed, claimed_at: Instant) {
        let margin = Duration::from_secs(1).min(self.lease / 4);
        let mut expires = claimed_at + self.lease - margin;
        let every = self.lease / 3;
        loop {
            tokio::time::sleep_until((Instant::now() + every).min(expires)).await;
            let sent = Instant::now();
            if sent >= expires {
                tracing::warn!(webhook_id = %claim.webhook_id, "no renewal within the lease");
                return;
            }
            match tokio::time::timeout_at(expires, self.inbox.renew(claim, self.lease, self.now())).await {
                Ok(Ok(true)) => expires = sent + self.lease - margin,
                Ok(Ok(false)) => return,
                Ok(Err(error)) => {
                    tracing::warn!(webhook_id = %claim.webhook_id, %error, "cannot renew the lease; retrying");
                }
                Err(_) => {
                    tracing::warn!(webhook_id = %claim.webhook_id, "the renewal outlived the lease");
                    return;
                }
            }
        }
    }
}

/// An attempt's own task never panics; a cancelled one is the runtime
/// shutting down.
fn log_abnormal_end(ended: Result<Handled, tokio::task::JoinError>, worker: &str) {
    if let Err(error) = ended {
        tracing::error!(%error, %worker, "an attempt's task ended abnormally");
    }
}

/// What a panicking handler said, if it said it with a string.
fn panic_message(ended: tokio::task::JoinError) -> String {
    if !ended.is_panic() {
        return "cancelled".to_owned();
    }
    let payload = ended.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string payload".to_owned())
}

/// Keeps the inbox as its [`Retention`](crate::Retention) says, every
/// `every`, forever (the first pass at once): makes dead letters of the rows
/// whose last attempt never reported back, then deletes the finished rows
/// retention no longer keeps, a batch at a time.
pub async fn run_retention(inbox: Inbox, every: Duration, clock: fn() -> i64) {
    loop {
        // The database's clock: with PostgreSQL, the due times are the server's.
        match inbox.rescue(None).await {
            Ok(0) => {}
            Ok(rescued) => {
                tracing::warn!(rescued, "dead letters: rows whose last attempt never reported back")
            }
            Err(error) => tracing::warn!(%error, "inbox rescue failed"),
        }
        match inbox.purge(clock()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "inbox retention"),
            Err(error) => tracing::warn!(%error, "inbox retention failed"),
        }
        tokio::time::sleep(every).await;
    }
}
