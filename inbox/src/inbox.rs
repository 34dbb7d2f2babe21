//! The inbox, whichever database holds it.

use std::fmt;
#[cfg(feature = "sqlite")]
use std::path::Path;
#[cfg(feature = "postgres")]
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "sqlite")]
use tokio::sync::oneshot;

use crate::delivery::{Claimed, Failed, Inserted, NewDelivery};
use crate::error::InboxError;
#[cfg(feature = "postgres")]
use crate::postgres::{Postgres, PostgresOptions};
#[cfg(feature = "sqlite")]
use crate::sqlite::{self, Answer, Op, Request, SqliteOptions};

/// A durable inbox of verified deliveries. Cheap to clone; every clone
/// shares the same connections.
#[derive(Clone)]
pub struct Inbox(pub(crate) Backend);

#[derive(Clone)]
pub(crate) enum Backend {
    #[cfg(feature = "sqlite")]
    Sqlite { queue: std::sync::mpsc::Sender<Op>, reader: sqlite::Reader },
    #[cfg(feature = "postgres")]
    Postgres(Arc<Postgres>),
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.0 {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { .. } => "sqlite",
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => "postgres",
        };
        f.debug_tuple("Inbox").field(&kind).finish()
    }
}

impl Inbox {
    /// Opens the SQLite inbox at `path`, creating the file if it is missing,
    /// in WAL mode with `synchronous=FULL`, migrating its schema.
    ///
    /// One process holds an SQLite inbox at a time (an exclusive lock on
    /// `<path>.lock`), so the claims found at start belong to a process that
    /// is gone, and are released at once instead of waiting out their leases.
    ///
    /// # Errors
    /// [`InboxError::Locked`] if another process holds it; [`InboxError`] if
    /// the file cannot be opened or migrated.
    #[cfg(feature = "sqlite")]
    pub fn open_sqlite(path: impl AsRef<Path>, options: &SqliteOptions) -> Result<Self, InboxError> {
        let (queue, reader) = sqlite::open(path.as_ref(), options)?;
        Ok(Self(Backend::Sqlite { queue, reader }))
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
        Ok(Self(Backend::Postgres(Arc::new(Postgres::connect(url, options).await?))))
    }

    /// Queues `request` for the SQLite writer and waits for its answer, given after the commit.
    #[cfg(feature = "sqlite")]
    pub(crate) async fn sqlite(
        queue: &std::sync::mpsc::Sender<Op>,
        request: Request,
    ) -> Result<Answer, InboxError> {
        let (reply, answer) = oneshot::channel();
        queue.send((request, reply)).map_err(|_| InboxError::Closed)?;
        answer.await.map_err(|_| InboxError::Closed)?
    }

    /// Inserts `delivery` and returns once it is committed, or was already there.
    /// Answer the sender 2xx only after this returns `Ok`.
    ///
    /// # Errors
    /// [`InboxError`]: answer 503, so the sender retries.
    pub async fn insert(&self, delivery: NewDelivery) -> Result<Inserted, InboxError> {
        match &self.0 {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => match Self::sqlite(queue, Request::Insert(delivery)).await? {
                Answer::Inserted(inserted) => Ok(inserted),
                _ => Err(mismatch()),
            },
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.insert(delivery).await,
        }
    }

    /// Whether the inbox can take writes now: SQLite takes its write lock
    /// (behind any queued writes), PostgreSQL answers a query. For a
    /// readiness probe.
    ///
    /// # Errors
    /// [`InboxError`] if it cannot.
    pub async fn ping(&self) -> Result<(), InboxError> {
        match &self.0 {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => match Self::sqlite(queue, Request::Ping).await? {
                Answer::Pong => Ok(()),
                _ => Err(mismatch()),
            },
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.ping().await,
        }
    }

    /// Claims up to `limit` due rows for `worker`, leased for `lease` from `now` (Unix seconds).
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn claim(
        &self,
        worker: &str,
        lease: Duration,
        now: i64,
        limit: usize,
    ) -> Result<Vec<Claimed>, InboxError> {
        let until = lease_end(now, lease);
        match &self.0 {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => {
                match Self::sqlite(queue, Request::Claim { worker: worker.to_owned(), until, now, limit })
                    .await?
                {
                    Answer::Claimed(rows) => Ok(rows),
                    _ => Err(mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.claim(worker, until, now, limit).await,
        }
    }

    /// Marks a claimed row processed. `false` if `worker` no longer holds it.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn complete(&self, id: &str, worker: &str, now: i64) -> Result<bool, InboxError> {
        match &self.0 {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => {
                let request = Request::Complete { id: id.to_owned(), worker: worker.to_owned(), now };
                match Self::sqlite(queue, request).await? {
                    Answer::Completed(completed) => Ok(completed),
                    _ => Err(mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.complete(id, worker, now).await,
        }
    }

    /// Extends `worker`'s lease on a row whose handler is still running, to
    /// `lease` from `now` (Unix seconds). `false` if `worker` no longer holds it.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn renew(&self, id: &str, worker: &str, lease: Duration, now: i64) -> Result<bool, InboxError> {
        let until = lease_end(now, lease);
        match &self.0 {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => {
                let request = Request::Renew { id: id.to_owned(), worker: worker.to_owned(), until };
                match Self::sqlite(queue, request).await? {
                    Answer::Renewed(renewed) => Ok(renewed),
                    _ => Err(mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.renew(id, worker, until).await,
        }
    }

    /// Records a handler failure: a retry with exponential backoff, or, after
    /// [`MAX_ATTEMPTS`](crate::MAX_ATTEMPTS), a dead letter.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn fail(&self, id: &str, worker: &str, now: i64) -> Result<Failed, InboxError> {
        match &self.0 {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => {
                match Self::sqlite(queue, Request::Fail { id: id.to_owned(), worker: worker.to_owned(), now })
                    .await?
                {
                    Answer::Failed(failed) => Ok(failed),
                    _ => Err(mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.fail(id, worker, now).await,
        }
    }

    /// Deletes processed and failed rows received more than
    /// [`RETENTION_SECS`](crate::RETENTION_SECS) before `now`.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn purge(&self, now: i64) -> Result<u64, InboxError> {
        match &self.0 {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => match Self::sqlite(queue, Request::Purge { now }).await? {
                Answer::Purged(deleted) => Ok(deleted),
                _ => Err(mismatch()),
            },
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.purge(now).await,
        }
    }
}

/// When a lease of `lease` taken at `now` (Unix seconds) ends.
fn lease_end(now: i64, lease: Duration) -> i64 {
    now.saturating_add(i64::try_from(lease.as_secs()).unwrap_or(i64::MAX))
}

/// The writer answers each request with its own variant; anything else is a bug here.
#[cfg(feature = "sqlite")]
pub(crate) fn mismatch() -> InboxError {
    InboxError::Database("inbox writer answered with the wrong kind of result".to_owned())
}
