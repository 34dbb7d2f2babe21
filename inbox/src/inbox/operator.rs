//! The operator's side of [`Inbox`]: see what it holds, retry dead letters,
//! purge old rows.

use crate::error::InboxError;
use crate::inbox::{Backend, Inbox};
use crate::operator::{Filter, RETRY_BATCH, Retry, Row, State, Stats};
#[cfg(feature = "sqlite")]
use crate::sqlite::operator::{Answer as Admin, Request as AdminRequest};
#[cfg(feature = "sqlite")]
use crate::sqlite::{self, Answer, Request};

impl Inbox {
    #[cfg(feature = "sqlite")]
    async fn admin(queue: &crate::sqlite::Queue, request: AdminRequest) -> Result<Admin, InboxError> {
        match queue.ask(Request::Admin(request)).await? {
            Answer::Admin(answer) => Ok(*answer),
            _ => Err(crate::inbox::mismatch()),
        }
    }

    /// Counts by state at `now` (Unix seconds), and the oldest unfinished row.
    /// The unfinished counts use the partial index on unfinished rows; the
    /// finished ones take one pass over the table. With SQLite this runs on
    /// a reader connection: deliveries are committed meanwhile.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn stats(&self, now: i64) -> Result<Stats, InboxError> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { reader, .. } => {
                match sqlite::read(reader, AdminRequest::Stats { now }).await? {
                    Admin::Stats(stats) => Ok(stats),
                    _ => Err(crate::inbox::mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.stats(now).await,
        }
    }

    /// The rows `filter` selects, oldest first, without their bodies.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn list(&self, filter: &Filter, now: i64) -> Result<Vec<Row>, InboxError> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { reader, .. } => {
                match sqlite::read(reader, AdminRequest::List { filter: filter.clone(), now }).await? {
                    Admin::Rows(rows) => Ok(rows),
                    _ => Err(crate::inbox::mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.list(filter, now).await,
        }
    }

    /// The row `id`, with its raw body.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn get(&self, id: &str) -> Result<Option<Row>, InboxError> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { reader, .. } => {
                match sqlite::read(reader, AdminRequest::Get { id: id.to_owned() }).await? {
                    Admin::Row(row) => Ok(row),
                    _ => Err(crate::inbox::mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.get(id).await,
        }
    }

    /// Puts dead letters back in the queue (attempts reset, `failed_at`
    /// cleared), or makes pending rows in backoff due now
    /// ([`Retry::AllPending`], attempts kept), in conditional statements that
    /// never touch a row a worker holds: one for ids, batches of 1,000 rows
    /// for a set, each committed on its own (deliveries keep being written
    /// between them). Returns how many rows it changed.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn retry(&self, which: &Retry) -> Result<u64, InboxError> {
        if matches!(which, Retry::Ids(_)) {
            return self.retry_once(which).await;
        }
        // A set goes in batches, each committed on its own, until one comes
        // back short: a changed row no longer matches, so each batch is new rows.
        let mut changed = 0;
        loop {
            let batch = self.retry_once(which).await?;
            changed += batch;
            if batch < RETRY_BATCH {
                return Ok(changed);
            }
        }
    }

    async fn retry_once(&self, which: &Retry) -> Result<u64, InboxError> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => {
                match Self::admin(queue, AdminRequest::Retry(which.clone())).await? {
                    Admin::Count(count) => Ok(count),
                    _ => Err(crate::inbox::mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.retry(which).await,
        }
    }

    /// Deletes rows received before `cutoff` (Unix seconds) in any of
    /// `states`, of which only `Processed` and `Failed` count: an unfinished
    /// row is never purged. With `dry_run`, deletes nothing and returns how
    /// many it would.
    ///
    /// # Errors
    /// [`InboxError`].
    pub async fn purge_older_than(
        &self,
        cutoff: i64,
        states: &[State],
        dry_run: bool,
    ) -> Result<u64, InboxError> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { queue, .. } => {
                let request = AdminRequest::Purge { cutoff, states: states.to_vec(), dry_run };
                match Self::admin(queue, request).await? {
                    Admin::Count(count) => Ok(count),
                    _ => Err(crate::inbox::mismatch()),
                }
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.purge_older_than(cutoff, states, dry_run).await,
        }
    }
}
