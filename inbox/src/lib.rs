//! A durable inbox for webhook deliveries: the receiver answers 2xx only
//! after the delivery is committed, a retried id is stored once, workers
//! process rows under leases (at least once), and rows whose handler keeps
//! failing become dead letters. SQLite (bundled, WAL, `synchronous=FULL`) for
//! one instance; PostgreSQL for several behind one load balancer.
//!
//! Cargo features `sqlite` and `postgres` (both on by default) pick the
//! backends compiled in.
//!
//! See the README section "A receiver that loses nothing" for the guarantees.

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

pub use admin::{Filter, Retry, Row, State, Stats};
pub use delivery::{Claimed, Failed, Inserted, MAX_ATTEMPTS, NewDelivery, RETENTION_SECS, backoff_secs};
pub use error::InboxError;
pub use inbox::Inbox;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteOptions;
pub use worker::{Worker, run_retention, unix_now};
