#![doc = include_str!("../README.md")]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("webhook-signature-inbox needs a backend: enable the `sqlite` or the `postgres` feature");

mod admin;
mod delivery;
mod error;
mod inbox;
mod inbox_admin;
mod policy;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
mod postgres_admin;
#[cfg(feature = "postgres")]
mod postgres_tls;
mod schema;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_admin;
mod worker;
mod worker_stats;

pub use admin::{Filter, Retry, Row, State, Stats};
pub use delivery::{Claimed, Failed, Inserted, NewDelivery};
pub use error::InboxError;
pub use inbox::{Inbox, PoolStatus};
pub use policy::{DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_BACKOFF, RETENTION_SECS, Retention, RetryPolicy};
#[cfg(feature = "postgres")]
pub use postgres::{POOL_SIZE, PostgresOptions};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteOptions;
pub use worker::{DEFAULT_HANDLER_TIMEOUT, HandlerError, Worker, run_retention, unix_now};

/// How many writes may wait for the database, by default, before more are
/// refused with [`InboxError::Overloaded`]: with the receiver's 256 KiB
/// bodies, at most 128 MiB of queued deliveries.
pub const DEFAULT_QUEUE_BOUND: usize = 512;
pub use worker_stats::{Handled, WorkerStats};
