//! A durable inbox for webhook deliveries: the receiver answers 2xx only
//! after the delivery is committed, a retried id is stored once, workers
//! process rows under leases (at least once), and rows whose handler keeps
//! failing become dead letters. SQLite (bundled, WAL, `synchronous=FULL`) for
//! one instance; PostgreSQL for several behind one load balancer.
//!
//! See the README section "A receiver that loses nothing" for the guarantees.

mod delivery;
mod error;
mod inbox;
mod postgres;
mod schema;
mod sqlite;
mod worker;

pub use delivery::{Claimed, Failed, Inserted, MAX_ATTEMPTS, NewDelivery, RETENTION_SECS, backoff_secs};
pub use error::InboxError;
pub use inbox::Inbox;
pub use sqlite::SqliteOptions;
pub use worker::{Worker, run_retention, unix_now};
