//! The one schema, for both databases. Scripts outside the project read these
//! table and column names: keep them. Extra columns:
//! - `processed_by`: the worker that committed `processed_at`;
//! - `lease_due_at`: while a row is claimed, its lease's end plus the backoff
//!   of the attempt: a worker that dies mid-attempt, or a handler that kills
//!   its process, costs an attempt and waits out a backoff like any failure,
//!   instead of being claimed first on every restart. A row is due at the
//!   later of this and `next_attempt_at` (or `received_at`): an expression
//!   index (`deliveries_due`, on unfinished rows) holds exactly that, so rows
//!   waiting in backoff never slow the claim of a due one, and an operator
//!   who edits `next_attempt_at` moves the row's due time with it;
//! - `claim_token`: a random token per claim: only the attempt that holds it
//!   may renew, complete or fail the row (the worker's name is shared by its
//!   tasks and, by mistake, by replicas);
//! - `last_error`: why the last attempt failed, for the operator;
//! - `replay_key`: what the sender signed, when it is not `webhook_id` (a
//!   dynamic Gemini token may be replayed under a new id): unique, so a
//!   replay is a duplicate.

/// The schema version this code writes (SQLite `PRAGMA user_version`;
/// PostgreSQL table `inbox_schema`).
pub(crate) const VERSION: i64 = 2;

/// Reads every column of this version and no row: it fails on a schema that
/// claims [`VERSION`] without being it.
pub(crate) const EVERY_COLUMN: &str = "SELECT webhook_id, event_type, webhook_timestamp, body, \
    authenticated, received_at, attempts, next_attempt_at, claimed_by, claimed_until, processed_at, \
    failed_at, processed_by, lease_due_at, claim_token, last_error, replay_key FROM deliveries LIMIT 0";

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

/// Version 2: the columns `lease_due_at`, `claim_token`, `last_error` and
/// `replay_key`, with their indexes. Adding nullable columns rewrites no
/// row; the index builds read the table once.
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE_V2: &str = "
ALTER TABLE deliveries ADD COLUMN lease_due_at INTEGER;
ALTER TABLE deliveries ADD COLUMN claim_token INTEGER;
ALTER TABLE deliveries ADD COLUMN last_error TEXT;
ALTER TABLE deliveries ADD COLUMN replay_key TEXT;
UPDATE deliveries SET lease_due_at = claimed_until + 1 WHERE claimed_until IS NOT NULL AND processed_at IS NULL;
CREATE INDEX deliveries_due ON deliveries ((max(coalesce(next_attempt_at, received_at), coalesce(lease_due_at, received_at))))
  WHERE processed_at IS NULL AND failed_at IS NULL;
CREATE INDEX deliveries_processed ON deliveries (received_at) WHERE processed_at IS NOT NULL;
CREATE INDEX deliveries_failed ON deliveries (failed_at) WHERE failed_at IS NOT NULL;
CREATE UNIQUE INDEX deliveries_replay ON deliveries (replay_key) WHERE replay_key IS NOT NULL;
";

#[cfg(feature = "postgres")]
pub(crate) const POSTGRES_V2: &str = "
ALTER TABLE deliveries ADD COLUMN lease_due_at BIGINT;
ALTER TABLE deliveries ADD COLUMN claim_token BIGINT;
ALTER TABLE deliveries ADD COLUMN last_error TEXT;
ALTER TABLE deliveries ADD COLUMN replay_key TEXT;
UPDATE deliveries SET lease_due_at = claimed_until + 1 WHERE claimed_until IS NOT NULL AND processed_at IS NULL;
CREATE INDEX deliveries_due ON deliveries
  ((GREATEST(COALESCE(next_attempt_at, received_at), COALESCE(lease_due_at, received_at))))
  WHERE processed_at IS NULL AND failed_at IS NULL;
CREATE INDEX deliveries_processed ON deliveries (received_at) WHERE processed_at IS NOT NULL;
CREATE INDEX deliveries_failed ON deliveries (failed_at) WHERE failed_at IS NOT NULL;
CREATE UNIQUE INDEX deliveries_replay ON deliveries (replay_key) WHERE replay_key IS NOT NULL;
";
