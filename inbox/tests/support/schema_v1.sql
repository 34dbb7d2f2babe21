-- An inbox file as the schema's first version left it (user_version 1): the
-- table and indexes of `SQLITE_V1`, with one row in each state, at T0 = 1795000000.
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
INSERT INTO deliveries (webhook_id, event_type, webhook_timestamp, body, authenticated, received_at, attempts, next_attempt_at, claimed_by, claimed_until, processed_at, failed_at)
VALUES
  ('new',   'batch.succeeded', 1795000000, X'7B7D', 'signature', 1795000000, 0, NULL,       NULL, NULL,       NULL,       NULL),
  ('due',   'batch.succeeded', 1795000001, X'7B7D', 'signature', 1795000001, 1, 1795000050, NULL, NULL,       NULL,       NULL),
  ('later', 'batch.succeeded', 1795000002, X'7B7D', 'signature', 1795000002, 2, 1795000500, NULL, NULL,       NULL,       NULL),
  ('done',  'batch.succeeded', 1795000003, X'7B7D', 'signature', 1795000003, 1, NULL,       NULL, NULL,       1795000004, NULL),
  ('dead',  'batch.succeeded', 1795000004, X'7B7D', 'signature', 1795000004, 10, 1795000040, NULL, NULL,      NULL,       1795000090);
PRAGMA user_version = 1;
