//! Why the inbox could not do something. Every one of them means: answer 503,
//! so the sender retries; never 2xx.

use std::fmt;

/// An inbox failure.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InboxError {
    /// The database or disk is full (SQLite `SQLITE_FULL`, PostgreSQL class 53).
    Full,
    /// The database is locked by someone else for longer than the busy timeout.
    Busy,
    /// The inbox was shut down.
    Closed,
    /// The write queue is full (the database is slower than deliveries
    /// arrive): refused at once; answer 503 with `Retry-After`.
    Overloaded,
    /// Another process holds this SQLite inbox (one process per file).
    Locked,
    /// The schema is newer than this code understands.
    SchemaTooNew(i64),
    /// The schema claims this code's version but lacks a table or column it
    /// reads (a database edited by hand, or written by an unreleased build):
    /// refused at start rather than failing every delivery.
    SchemaMismatch(String),
    /// Any other database error, with its message.
    Database(String),
}

impl fmt::Display for InboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("inbox database full"),
            Self::Busy => f.write_str("inbox database locked"),
            Self::Closed => f.write_str("inbox closed"),
            Self::Overloaded => f.write_str("inbox write queue full"),
            Self::Locked => f.write_str("inbox database is held by another process"),
            Self::SchemaTooNew(version) => {
                write!(f, "inbox schema version {version} is newer than this code")
            }
            Self::SchemaMismatch(message) => {
                write!(f, "inbox schema does not match its version: {message}")
            }
            Self::Database(message) => write!(f, "inbox database error: {message}"),
        }
    }
}

impl std::error::Error for InboxError {}

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for InboxError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => Self::Full,
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => Self::Busy,
            _ => Self::Database(error.to_string()),
        }
    }
}

#[cfg(feature = "postgres")]
impl From<tokio_postgres::Error> for InboxError {
    fn from(error: tokio_postgres::Error) -> Self {
        match error.code() {
            // Class 53: insufficient resources (disk full, out of memory, too many connections).
            Some(code) if code.code().starts_with("53") => Self::Full,
            Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => Self::Busy,
            // tokio-postgres's Display says only "db error"; the server's message is in the source.
            _ => match error.as_db_error() {
                Some(db) => Self::Database(format!("{} ({})", db.message(), db.code().code())),
                None => Self::Database(error.to_string()),
            },
        }
    }
}
