//! The one schema, for both databases. Scripts outside the project read these
//! table and column names: keep them. `processed_by` is an extra column: the
//! worker that committed `processed_at`.

/// The schema version this code writes (SQLite `PRAGMA user_version`;
/// PostgreSQL table `inbox_schema`).
pub(crate) const VERSION: i64 = 1;

#[cfg(feature = "sqlite")]
pub(crate) const SQLITE_V1: &str = "
CREATE TABLE deliveries (
  webhook_id        TEXT PRIMARY KEY,
  event_type        TEXT NOT NULL,
  webhook_timestamp INTEGER NOT NULL,
  body              BLOB NOT NULL,
  authenticated     TEXT NOT NULL,
  received_at       INTEGER NOT NULL,
  attempts          INTEGER NOT NULL DEFAULT 0,
  next_attempt_at   INTEGER,
  claimed_by        TEXT,
  claimed_until     INTEGER,
  processed_at      INTEGER,
  failed_at         INTEGER,
  processed_by      TEXT
);
CREATE INDEX deliveries_pending ON deliveries (received_at) WHERE processed_at IS NULL AND failed_at IS NULL;
CREATE INDEX deliveries_received ON deliveries (received_at);
";

#[cfg(feature = "postgres")]
pub(crate) const POSTGRES_V1: &str = "
CREATE TABLE deliveries (
  webhook_id        TEXT PRIMARY KEY,
  event_type        TEXT NOT NULL,
  webhook_timestamp BIGINT NOT NULL,
  body              BYTEA NOT NULL,
  authenticated     TEXT NOT NULL,
  received_at       BIGINT NOT NULL,
  attempts          INTEGER NOT NULL DEFAULT 0,
  next_attempt_at   BIGINT,
  claimed_by        TEXT,
  claimed_until     BIGINT,
  processed_at      BIGINT,
  failed_at         BIGINT,
  processed_by      TEXT
);
CREATE INDEX deliveries_pending ON deliveries (received_at) WHERE processed_at IS NULL AND failed_at IS NULL;
CREATE INDEX deliveries_received ON deliveries (received_at);
";

/// Rows a worker may claim at `now`: unprocessed, not dead, no live lease, due.
#[cfg(feature = "sqlite")]
pub(crate) const CLAIMABLE: &str = "processed_at IS NULL AND failed_at IS NULL \
     AND (claimed_until IS NULL OR claimed_until < ?3) \
     AND (next_attempt_at IS NULL OR next_attempt_at <= ?3)";
