#![doc = include_str!("../README.md")]

/// When an unfinished row is due, in SQLite's SQL: the later of its retry
/// time (`next_attempt_at`, or `received_at` for a new row) and its lease's
/// end plus its attempt's backoff (`lease_due_at`, while claimed). Indexed
/// as an expression (`deliveries_due`), computed from the columns
/// themselves, so an operator who edits `next_attempt_at` moves it too. The
/// claim must spell it exactly so for SQLite to use the index.
#[cfg(feature = "sqlite")]
macro_rules! sqlite_due {
    () => {
        "max(coalesce(next_attempt_at, received_at), coalesce(lease_due_at, received_at))"
    };
}

/// The due time of `sqlite_due!` in PostgreSQL's SQL.
#[cfg(feature = "postgres")]
macro_rules! postgres_due {
    () => {
        "GREATEST(COALESCE(next_attempt_at, received_at), COALESCE(lease_due_at, received_at))"
    };
}

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("webhook-signature-inbox needs a backend: enable the `sqlite` or the `postgres` feature");

mod delivery;
mod error;
mod inbox;
mod operator;
mod policy;
#[cfg(feature = "postgres")]
mod postgres;
mod queue;
mod schema;
#[cfg(feature = "sqlite")]
mod sqlite;
mod worker;
mod worker_stats;

pub use delivery::{Claimed, Failed, Inserted, NewDelivery};
pub use error::InboxError;
pub use inbox::{Inbox, PoolStatus};
pub use operator::{Filter, Retry, Row, State, Stats};
pub use policy::{DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_BACKOFF, RETENTION_SECS, Retention, RetryPolicy};
#[cfg(feature = "postgres")]
pub use postgres::{POOL_SIZE, PostgresOptions};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteOptions;
pub use worker::{DEFAULT_HANDLER_TIMEOUT, HandlerError, Worker, run_retention, unix_now};

/// How many inserts may wait for the database (queued or being committed),
/// by default, before more are refused with [`InboxError::Overloaded`]: with
/// the receiver's 256 KiB bodies, at most 128 MiB of deliveries held.
pub const DEFAULT_QUEUE_BOUND: usize = 512;
pub use worker_stats::{Handled, WorkerStats};

pub(crate) use queue::QueuedInserts;
