//! The inbox, whichever database holds it.

mod operator;

use std::fmt;
#[cfg(feature = "sqlite")]
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::delivery::{Claimed, Failed, Inserted, NewDelivery};
use crate::error::InboxError;
use crate::policy::{Finished, PURGE_BATCH, Retention, RetryPolicy};
#[cfg(feature = "postgres")]
use crate::postgres::{Postgres, PostgresOptions};
#[cfg(feature = "sqlite")]
use crate::sqlite::{self, Answer, Queue, Request, SqliteOptions};

/// A durable inbox of verified deliveries. Cheap to clone; every clone
/// shares the same connections, policies and wake-ups.
#[derive(Clone)]
pub struct Inbox {
    pub(crate) backend: Backend,
    policy: RetryPolicy,
    retention: Retention,
    /// Bumped by every new row, so idle workers of this process claim it at
    /// once instead of at their next poll.
    inserted: Arc<watch::Sender<u64>>,
}

#[derive(Clone)]
pub(crate) enum Backend {
    #[cfg(feature = "sqlite")]
    Sqlite { queue: Queue, reader: sqlite::Reader },
    #[cfg(feature = "postgres")]
    Postgres(Arc<Postgres>),
}

/// What a PostgreSQL inbox's connection pool holds, for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatus {
    /// The most connections it opens.
    pub max_size: usize,
    /// Connections open now.
    pub size: usize,
    /// Open connections not in use.
    pub available: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { .. } => "sqlite",
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => "postgres",
        };
        f.debug_struct("Inbox")
            .field("backend", &kind)
            .field("policy", &self.policy)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl Inbox {
    fn with_backend(backend: Backend) -> Self {
        Self {
            backend,
            policy: RetryPolicy::default(),
            retention: Retention::default(),
            inserted: Arc::new(watch::channel(0).0),
        }
    }

    /// Opens the SQLite inbox at `path`, creating the file if it is missing,
    /// in WAL mode with `synchronous=FULL`, migrating its schema.
    ///
    /// One process holds an SQLite inbox at a time (an exclusive lock on
    /// `<path>.lock`), so the claims found at start belong to a process that
    /// is gone: they are released at once, each row due after its attempt's
    /// backoff (the attempt counts as failed), instead of after its lease.
    ///
    /// # Errors
    /// [`InboxError::Locked`] if another process holds it; [`InboxError`] if
    /// the file or its folder cannot be opened or migrated.
    #[cfg(feature = "sqlite")]
    pub fn open_sqlite(path: impl AsRef<Path>, options: &SqliteOptions) -> Result<Self, InboxError> {
        let (queue, reader) = sqlite::open(path.as_ref(), options)?;
        Ok(Self::with_backend(Backend::Sqlite { queue, reader }))
    }

    /// Connects to the PostgreSQL inbox at `url` (`postgres://…`), migrating its schema.
    ///
    /// Connections come from a pool that replaces broken ones, so the inbox
    /// heals by itself after a server restart. TLS follows `sslmode` in the
    /// URL (`disable`, `prefer` (the default), `require`, `verify-ca`,
    /// `verify-full`, with `sslrootcert=` or the system roots).
    ///
    /// # Errors
    /// [`InboxError`] if the URL is invalid, or the server cannot be reached or migrated.
    #[cfg(feature = "postgres")]
    pub async fn connect_postgres(url: &str) -> Result<Self, InboxError> {
        Self::connect_postgres_with(url, &PostgresOptions::default()).await
    }

    /// [`connect_postgres`](Self::connect_postgres) with `options`: how long
    /// an operation may wait for a server that stopped answering.
    ///
    /// # Errors
    /// As [`connect_postgres`](Self::connect_postgres).
    #[cfg(feature = "postgres")]
    pub async fn connect_postgres_with(url: &str, options: &PostgresOptions) -> Result<Self, InboxError> {
        Ok(Self::with_backend(Backend::Postgres(Arc::new(Postgres::connect(url, options).await?))))
    }

    /// Retries failed rows on `policy`'s schedule (default
    /// [`RetryPolicy::default`]: 36 attempts over more than a day).
    #[must_use]
    pub fn with_retry_policy(self, policy: RetryPolicy) -> Self {
        Self { policy, ..self }
    }

    /// Keeps finished rows as `retention` says (default: processed rows 25 h,
    /// dead letters until an operator decides).
    #[must_use]
    pub fn with_retention(self, retention: Retention) -> Self {
        Self { retention, ..self }
    }

    /// The retry schedule.
    #[must_use]
    pub fn retry_policy(&self) -> RetryPolicy {
        self.policy
    }

    /// How long finished rows are kept.
    #[must_use]
    pub fn retention(&self) -> Retention {
        self.retention
    }

    /// Writes queued and not yet committed (SQLite: every operation; PostgreSQL:
    /// inserts and completions). At most the queue's bound: past it, writes are
    /// refused with [`InboxError::Overloaded`].
    #[must_use]
    pub fn queue_depth(&self) -> usize {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => queue.depth(),
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.queue_depth(),
        }
    }

    /// The PostgreSQL pool's connections (the workers' and operator's pool, not
    /// the writer's); `None` for SQLite.
    #[must_use]
    pub fn pool_status(&self) -> Option<PoolStatus> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { .. } => None,
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => Some(pg.pool_status()),
        }
    }

    /// The most connections a PostgreSQL inbox's worker pool opens; `None` for SQLite.
    #[must_use]
    pub fn pool_size(&self) -> Option<usize> {
        self.pool_status().map(|status| status.max_size)
    }

    /// A receiver that changes whenever a new row is committed by this process.
    pub(crate) fn inserted(&self) -> watch::Receiver<u64> {
        self.inserted.subscribe()
    }

    /// Inserts `delivery` and returns once it is committed, or was already
    /// there (its `webhook_id`, or its `replay_key`). Answer the sender 2xx
    /// only after this returns `Ok`.
    ///
    /// # Errors
    /// [`InboxError`]: answer 503, so the sender retries;
    /// [`InboxError::Overloaded`] at once when the write queue is full.
    pub async fn insert(&self, delivery: NewDelivery) -> Result<Inserted, InboxError> {
        let inserted = match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => match queue.insert(delivery).await? {
                Answer::Inserted(inserted) => inserted,
                _ => return Err(mismatch()),
            },
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.insert(delivery).await?,
        };
        if inserted == Inserted::New {
            self.inserted.send_modify(|count| *count = count.wrapping_add(1));
        }
        Ok(inserted)
    }

    /// Whether the inbox can take writes now: SQLite takes its write lock
    /// (behind any queued writes); PostgreSQL answers a query, and is not a
    /// read-only standby. For a readiness probe.
    ///
    /// # Errors
    /// [`InboxError`] if it cannot.
    pub async fn ping(&self) -> Result<(), InboxError> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => match queue.ask(Request::Ping).await? {
                Answer::Pong => Ok(()),
                _ => Err(mismatch()),
            },
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.ping().await,
        }
    }

    /// Claims up to `limit` due rows for `worker`, leased for `lease` from
    /// `now` (Unix seconds; `None`: the database's clock, so that instances
    /// sharing PostgreSQL agree). A row is due once its backoff and any
    /// earlier lease have ended, and while it has attempts left.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn claim(
        &self,
        worker: &str,
        lease: Duration,
        now: impl Into<Option<i64>>,
        limit: usize,
    ) -> Result<Vec<Claimed>, InboxError> {
        let lease = secs(lease);
        let now = now.into();
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => {
                let request = Request::Claim {
                    worker: worker.to_owned(),
                    lease,
                    now: now.unwrap_or_else(crate::unix_now),
                    limit,
                    policy: self.policy,
                };
                match queue.ask(request).await? {
                    Answer::Claimed(rows) => Ok(rows),
                    _ => Err(mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.claim(worker, lease, now, limit, &self.policy).await,
        }
    }

    /// Marks a claimed row processed. `false` if its claim is no longer
    /// `row`'s (another attempt holds it, or it was finished otherwise).
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn complete(
        &self,
        row: &Claimed,
        worker: &str,
        now: impl Into<Option<i64>>,
    ) -> Result<bool, InboxError> {
        let (id, token, now) = (row.webhook_id.clone(), row.claim_token, now.into());
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => {
                let now = now.unwrap_or_else(crate::unix_now);
                match queue.ask(Request::Complete { id, token, worker: worker.to_owned(), now }).await? {
                    Answer::Completed(completed) => Ok(completed),
                    _ => Err(mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.complete(id, token, worker.to_owned(), now).await,
        }
    }

    /// Extends the lease of `row`'s claim while its handler runs, to `lease`
    /// from `now`. `false` if the claim is no longer `row`'s.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn renew(
        &self,
        row: &Claimed,
        lease: Duration,
        now: impl Into<Option<i64>>,
    ) -> Result<bool, InboxError> {
        let (lease, now) = (secs(lease), now.into());
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => {
                let request = Request::Renew {
                    id: row.webhook_id.clone(),
                    token: row.claim_token,
                    lease,
                    now: now.unwrap_or_else(crate::unix_now),
                    policy: self.policy,
                };
                match queue.ask(request).await? {
                    Answer::Renewed(renewed) => Ok(renewed),
                    _ => Err(mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.renew(row, lease, now, &self.policy).await,
        }
    }

    /// Records that `row`'s attempt failed with `error` (kept in
    /// `last_error`): a retry after the policy's backoff, or a dead letter
    /// after its last attempt.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn fail(
        &self,
        row: &Claimed,
        error: &str,
        now: impl Into<Option<i64>>,
    ) -> Result<Failed, InboxError> {
        let retry_in = self.policy.retry_in(&row.webhook_id, row.attempt());
        let error = last_error(error);
        let now = now.into();
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => {
                let request = Request::Fail {
                    id: row.webhook_id.clone(),
                    token: row.claim_token,
                    now: now.unwrap_or_else(crate::unix_now),
                    retry_in,
                    max_attempts: self.policy.max_attempts_i64(),
                    error,
                };
                match queue.ask(request).await? {
                    Answer::Failed(failed) => Ok(failed),
                    _ => Err(mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => {
                pg.fail(row, now, retry_in, self.policy.max_attempts_i64(), &error).await
            }
        }
    }

    /// Makes dead letters of the rows whose last attempt never reported back
    /// (its process died) once their lease has ended: the claim skips rows
    /// without attempts left, and this gives them their `failed_at`.
    /// Returns how many.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn rescue(&self, now: impl Into<Option<i64>>) -> Result<u64, InboxError> {
        let (now, max_attempts) = (now.into(), self.policy.max_attempts_i64());
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => {
                let now = now.unwrap_or_else(crate::unix_now);
                match queue.ask(Request::Rescue { now, max_attempts }).await? {
                    Answer::Purged(rescued) => Ok(rescued),
                    _ => Err(mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.rescue(now, max_attempts).await,
        }
    }

    /// Deletes the finished rows that [`Retention`] no longer keeps at `now`
    /// (Unix seconds): processed rows received before the dedupe window, and
    /// dead letters only if a retention for them is set. Deletes 1,000 rows
    /// per statement, each its own commit, so deliveries' commits interleave
    /// with a long purge instead of waiting for all of it.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn purge(&self, now: i64) -> Result<u64, InboxError> {
        let (processed, dead_letters) = self.retention.cutoffs(now);
        let mut deleted = 0_u64;
        for (finished, cutoff) in
            [(Finished::Processed, Some(processed)), (Finished::DeadLetters, dead_letters)]
        {
            let Some(cutoff) = cutoff else { continue };
            loop {
                let batch = match &self.backend {
                    #[cfg(feature = "sqlite")]
                    Backend::Sqlite { queue, .. } => {
                        match queue.ask(Request::Purge { finished, cutoff, limit: PURGE_BATCH }).await? {
                            Answer::Purged(batch) => batch,
                            _ => return Err(mismatch()),
                        }
                    }
                    #[cfg(feature = "postgres")]
                    Backend::Postgres(pg) => pg.purge(finished, cutoff, PURGE_BATCH).await?,
                };
                deleted = deleted.saturating_add(batch);
                if batch < PURGE_BATCH.unsigned_abs() {
                    break;
                }
            }
        }
        Ok(deleted)
    }
}

/// A lease in whole seconds, at least one.
fn secs(lease: Duration) -> i64 {
    i64::try_from(lease.as_secs()).unwrap_or(i64::MAX).max(1)
}

/// The longest `last_error` kept: enough for a status line and the start of
/// an answer, not a downstream's whole error page.
const MAX_LAST_ERROR: usize = 1024;

/// `error` cut to [`MAX_LAST_ERROR`] bytes at a character boundary, without
/// NULs (PostgreSQL's text cannot hold them).
fn last_error(error: &str) -> String {
    let mut end = error.len().min(MAX_LAST_ERROR);
    while !error.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    error.get(..end).unwrap_or_default().replace('\0', "\u{fffd}")
}

/// The writer answers each request with its own variant; anything else is a bug here.
#[cfg(feature = "sqlite")]
pub(crate) fn mismatch() -> InboxError {
    InboxError::Database("inbox writer answered with the wrong kind of result".to_owned())
}
