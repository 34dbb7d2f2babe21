#![doc = include_str!("../README.md")]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("webhook-signature-inbox needs a backend: enable the `sqlite` or the `postgres` feature");

mod admin;
mod delivery;
mod error;
mod inbox;
mod inbox_admin;
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
pub use delivery::{Claimed, Failed, Inserted, MAX_ATTEMPTS, NewDelivery, RETENTION_SECS, backoff_secs};
pub use error::InboxError;
pub use inbox::Inbox;
#[cfg(feature = "postgres")]
pub use postgres::PostgresOptions;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteOptions;
pub use worker::{DEFAULT_HANDLER_TIMEOUT, Worker, run_retention, unix_now};
pub use worker_stats::{Handled, WorkerStats};
