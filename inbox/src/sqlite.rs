//! SQLite: one writer thread owns the connection. Every operation is queued
//! to it; it takes everything queued at once into one IMMEDIATE transaction,
//! commits (one fsync for the whole batch, WAL with `synchronous=FULL`), and
//! only then answers each caller. Concurrent deliveries so share commits.

pub(crate) mod operator;

use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use tokio::sync::oneshot;

use crate::delivery::{Claimed, Failed, Inserted, NewDelivery, claim_token};
use crate::error::InboxError;
use crate::policy::{Finished, RetryPolicy};
use crate::schema;

/// The most operations committed in one transaction.
const MAX_BATCH: usize = 1024;

/// One queued operation and where its answer goes, after the commit.
pub(crate) type Op = (Request, oneshot::Sender<Result<Answer, InboxError>>);

/// The writer's queue. Inserts are bounded (each holds a slot until it is
/// answered), so a disk that stalls cannot make it hold every delivery, body
/// included, that arrives meanwhile: past the bound an insert is refused at
/// once ([`InboxError::Overloaded`]: the sender retries later). The worker's
/// operations are not bounded here (each worker task has at most one in
/// flight), so a flood of deliveries never starves a lease's renewal.
#[derive(Clone)]
pub(crate) struct Queue {
    sender: mpsc::Sender<Op>,
    inserts: Arc<crate::QueuedInserts>,
}

impl Queue {
    /// Queues `request` for the writer and waits for its answer, given after
    /// the commit. A caller that goes away before the writer reaches its
    /// request has it skipped.
    pub(crate) async fn ask(&self, request: Request) -> Result<Answer, InboxError> {
        let (reply, answer) = oneshot::channel();
        self.sender.send((request, reply)).map_err(|_| InboxError::Closed)?;
        answer.await.map_err(|_| InboxError::Closed)?
    }

    /// Inserts `delivery` in its turn, if a slot is free.
    pub(crate) async fn insert(&self, delivery: NewDelivery) -> Result<Answer, InboxError> {
        let slot = self.inserts.take()?;
        self.ask(Request::Insert(delivery, slot)).await
    }

    /// Inserts queued or being committed.
    pub(crate) fn depth(&self) -> usize {
        self.inserts.depth()
    }
}

/// What a caller asks the writer thread to do.
pub(crate) enum Request {
    // The slot is held for its drop: given back once the insert is answered.
    Insert(NewDelivery, #[expect(dead_code, reason = "held for its Drop")] crate::queue::Slot),
    Claim {
        worker: String,
        lease: i64,
        now: i64,
        limit: usize,
        policy: RetryPolicy,
    },
    Renew {
        id: String,
        token: i64,
        lease: i64,
        now: i64,
        policy: RetryPolicy,
    },
    Complete {
        id: String,
        token: i64,
        worker: String,
        now: i64,
    },
    Fail {
        id: String,
        token: i64,
        now: i64,
        retry_in: i64,
        max_attempts: i64,
        error: String,
    },
    Rescue {
        now: i64,
        max_attempts: i64,
    },
    Purge {
        finished: Finished,
        cutoff: i64,
        limit: i64,
    },
    /// Takes the write lock and commits nothing: can the inbox write now?
    Ping,
    /// An operator's request.
    Admin(operator::Request),
}

/// The result of a [`Request`], one variant per request.
pub(crate) enum Answer {
    Inserted(Inserted),
    Claimed(Vec<Claimed>),
    Completed(bool),
    Renewed(bool),
    Failed(Failed),
    Purged(u64),
    Pong,
    Admin(Box<operator::Answer>),
}

/// How to open an SQLite inbox.
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// How long a write waits for a lock held elsewhere before failing with
    /// [`InboxError::Busy`] (default 5 s).
    pub busy_timeout: Duration,
    /// `PRAGMA max_page_count`, to bound the file (tests use it to simulate a full disk).
    pub max_page_count: Option<u32>,
    /// `true` (the default): this process serves the inbox, holds it
    /// exclusively, and releases a dead predecessor's claims. `false`: attach
    /// to an inbox that another process may be serving, for an operator's
    /// tools: no lock, no claim released, and the file must exist.
    pub exclusive: bool,
    /// The most operations waiting for the writer (default
    /// [`DEFAULT_QUEUE_BOUND`](crate::DEFAULT_QUEUE_BOUND)); past it, writes
    /// are refused with [`InboxError::Overloaded`] at once.
    pub queue_bound: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(5),
            max_page_count: None,
            exclusive: true,
            queue_bound: crate::DEFAULT_QUEUE_BOUND,
        }
    }
}

impl SqliteOptions {
    /// Options to attach to an inbox another process serves ([`exclusive`](Self::exclusive) `false`).
    #[must_use]
    pub fn attach() -> Self {
        Self { exclusive: false, ..Self::default() }
    }
}

/// A read-only connection for the operator's reads (counts, lists, a row),
/// run on tokio's blocking pool. On the writer thread, a count over a day of
/// rows held every delivery's commit until it finished; in WAL mode a reader
/// sees the last commit and neither waits for the writer nor blocks it.
pub(crate) type Reader = Arc<Mutex<Connection>>;

/// Opens (creating it if missing) and migrates the database, takes the
/// single-writer lock, releases the claims a previous process left, then
/// starts the writer thread. Returns its queue and a reader.
pub(crate) fn open(path: &Path, options: &SqliteOptions) -> Result<(Queue, Reader), InboxError> {
    if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty())
        && !folder.is_dir()
    {
        return Err(InboxError::Database(format!(
            "{}: the folder {} does not exist",
            path.display(),
            folder.display()
        )));
    }
    let lock = if options.exclusive {
        Some(lock_exclusively(path, options.busy_timeout)?)
    } else if !path.exists() {
        return Err(InboxError::Database(format!("{}: no such inbox", path.display())));
    } else {
        None
    };
    let mut connection = Connection::open(path)?;
    rusqlite::vtab::array::load_module(&connection)?;
    connection.busy_timeout(options.busy_timeout)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    migrate(&mut connection)?;
    if let Some(pages) = options.max_page_count {
        connection.pragma_update(None, "max_page_count", pages)?;
    }
    // This process holds the lock, so every claim in the file was made by a
    // process that is gone: its rows need not wait out their leases, only the
    // backoff of the attempt that died with it (a claim sets `lease_due_at`
    // to the lease's end plus that backoff), from now: a retry, so a row that
    // kills its process is not claimed first on every restart.
    let released = if lock.is_none() {
        0
    } else {
        connection.execute(
            "UPDATE deliveries SET next_attempt_at = ?1 + max(0, coalesce(lease_due_at - claimed_until, 0)), \
               lease_due_at = NULL, claim_token = NULL, claimed_by = NULL, claimed_until = NULL \
             WHERE claimed_by IS NOT NULL AND processed_at IS NULL AND failed_at IS NULL",
            params![crate::unix_now()],
        )?
    };
    if released > 0 {
        tracing::info!(released, "released the claims of a previous process");
    }
    let reader = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    reader.busy_timeout(options.busy_timeout)?;
    let (sender, receiver) = mpsc::channel();
    std::thread::Builder::new()
        .name("inbox-sqlite-writer".to_owned())
        .spawn(move || {
            // The lock lives as long as the writer: it is released when the
            // last Inbox clone is dropped, or the process dies.
            let _lock = lock;
            writer(connection, &receiver);
        })
        .map_err(|e| InboxError::Database(e.to_string()))?;
    let inserts = Arc::new(crate::QueuedInserts::new(options.queue_bound));
    Ok((Queue { sender, inserts }, Arc::new(Mutex::new(reader))))
}

/// Runs an operator's read on `reader`, in one read transaction (one
/// snapshot), on the blocking pool. A caller that goes away leaves the read
/// to finish; it changes nothing.
pub(crate) async fn read(
    reader: &Reader,
    request: operator::Request,
) -> Result<operator::Answer, InboxError> {
    let reader = Arc::clone(reader);
    tokio::task::spawn_blocking(move || {
        let mut connection =
            reader.lock().map_err(|_| InboxError::Database("the inbox reader panicked".to_owned()))?;
        let transaction = connection.transaction()?;
        operator::apply(&transaction, &request)
    })
    .await
    .map_err(|_| InboxError::Closed)?
}

/// `<database>.lock`, locked exclusively (`flock`): one process per SQLite
/// inbox, so a claim found at start belongs to a dead process. Readers (the
/// CLI, backups) are not affected: they never take this lock. Waits up to
/// `wait` for a holder that is going away (a process exiting, or an inbox of
/// this process whose writer thread is finishing).
fn lock_exclusively(path: &Path, wait: Duration) -> Result<std::fs::File, InboxError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&name)
        .map_err(|e| InboxError::Database(format!("{}: {e}", std::path::Path::new(&name).display())))?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => return Err(InboxError::Locked),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(InboxError::Database(format!("{}: {e}", std::path::Path::new(&name).display())));
            }
        }
    }
}

/// Versioned with `PRAGMA user_version`, migrated in one IMMEDIATE transaction
/// so two processes starting at once cannot both create the table.
fn migrate(connection: &mut Connection) -> Result<(), InboxError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > schema::VERSION {
        return Err(InboxError::SchemaTooNew(version));
    }
    if version < 1 {
        transaction.execute_batch(schema::SQLITE_V1)?;
    }
    if version < 2 {
        transaction.execute_batch(schema::SQLITE_V2)?;
    }
    transaction.pragma_update(None, "user_version", schema::VERSION)?;
    transaction.commit()?;
    check_columns(connection)
}

/// [`schema::EVERY_COLUMN`]: a missing table or column is a
/// [`InboxError::SchemaMismatch`], anything else as it comes.
fn check_columns(connection: &Connection) -> Result<(), InboxError> {
    match connection.prepare(schema::EVERY_COLUMN) {
        Ok(_) => Ok(()),
        Err(error) => {
            let message = error.to_string();
            if message.starts_with("no such column") || message.starts_with("no such table") {
                // SQLite appends the statement ("… in SELECT … at offset 216"): the name is enough.
                let name = message.split(" in SELECT").next().unwrap_or(&message);
                Err(InboxError::SchemaMismatch(name.to_owned()))
            } else {
                Err(error.into())
            }
        }
    }
}

fn writer(mut connection: Connection, queue: &mpsc::Receiver<Op>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        // A caller that gave up (a delivery past its commit timeout, already
        // answered 503) is not written now: its sender retries, and a stale
        // write would only delay the live ones behind it.
        batch.retain(|(_, reply)| !reply.is_closed());
        if !batch.is_empty() {
            run_batch(&mut connection, batch);
        }
    }
}

/// Runs every operation in one transaction. If any fails, or the commit does,
/// the whole batch is rolled back and every caller gets the error: nobody is
/// told "committed" for a write that was not.
fn run_batch(connection: &mut Connection, batch: Vec<Op>) {
    let outcome = (|| -> Result<Vec<Answer>, InboxError> {
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let answers =
            batch.iter().map(|(request, _)| apply(&transaction, request)).collect::<Result<_, _>>()?;
        transaction.commit()?;
        Ok(answers)
    })();
    // A caller that went away (its request was cancelled) needs no answer.
    match outcome {
        Ok(answers) => {
            for ((_, reply), answer) in batch.into_iter().zip(answers) {
                let _ = reply.send(Ok(answer));
            }
        }
        Err(error) => {
            tracing::error!(%error, "inbox batch rolled back");
            for (_, reply) in batch {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

/// One operation inside the batch's transaction.
fn apply(transaction: &rusqlite::Transaction<'_>, request: &Request) -> Result<Answer, InboxError> {
    Ok(match request {
        Request::Insert(delivery, _) => Answer::Inserted(insert(transaction, delivery)?),
        Request::Claim { worker, lease, now, limit, policy } => {
            Answer::Claimed(claim(transaction, worker, *lease, *now, *limit, policy)?)
        }
        Request::Complete { id, token, worker, now } => {
            Answer::Completed(complete(transaction, id, *token, worker, *now)?)
        }
        Request::Renew { id, token, lease, now, policy } => {
            Answer::Renewed(renew(transaction, id, *token, *lease, *now, policy)?)
        }
        Request::Fail { id, token, now, retry_in, max_attempts, error } => {
            Answer::Failed(fail(transaction, id, *token, *now, *retry_in, *max_attempts, error)?)
        }
        Request::Rescue { now, max_attempts } => Answer::Purged(rescue(transaction, *now, *max_attempts)?),
        Request::Purge { finished, cutoff, limit } => {
            Answer::Purged(purge(transaction, *finished, *cutoff, *limit)?)
        }
        Request::Ping => Answer::Pong,
        Request::Admin(request) => Answer::Admin(Box::new(operator::apply(transaction, request)?)),
    })
}

fn changed(count: usize) -> u64 {
    u64::try_from(count).unwrap_or(u64::MAX)
}

fn insert(transaction: &rusqlite::Transaction<'_>, d: &NewDelivery) -> Result<Inserted, InboxError> {
    // No conflict target: a `webhook_id` or a `replay_key` already there is a duplicate.
    let changed = transaction
        .prepare_cached(
            "INSERT INTO deliveries (webhook_id, event_type, webhook_timestamp, body, authenticated, \
               received_at, replay_key) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            d.webhook_id,
            d.event_type,
            d.webhook_timestamp,
            d.body,
            d.authenticated,
            d.received_at,
            d.replay_key
        ])?;
    Ok(if changed == 1 { Inserted::New } else { Inserted::Duplicate })
}

fn claim(
    transaction: &rusqlite::Transaction<'_>,
    worker: &str,
    lease: i64,
    now: i64,
    limit: usize,
    policy: &RetryPolicy,
) -> Result<Vec<Claimed>, InboxError> {
    let mut statement = transaction.prepare_cached(&claim_sql(limit))?;
    let token = claim_token();
    let until = now.saturating_add(lease);
    let rows = statement.query_map(
        params![worker, until, now, policy.max_attempts_i64(), policy.cap_secs(), token],
        |row| {
            Ok(Claimed {
                webhook_id: row.get(0)?,
                event_type: row.get(1)?,
                webhook_timestamp: row.get(2)?,
                body: row.get(3)?,
                authenticated: row.get(4)?,
                attempts: row.get(5)?,
                claim_token: token,
                replay_key: row.get(6)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The backoff after attempt `attempts` in SQL, without jitter, capped at
/// `?5`: [`RetryPolicy::backoff`], to the second (tested equal); at least
/// one second past the lease, so a lease is never due at its own last second.
macro_rules! backoff {
    ($attempts:literal) => {
        concat!("max(1, min(?5, 1 << min(max(", $attempts, ", 1), 40)))")
    };
}

/// The claim of up to `limit` due rows, oldest due first, through the partial
/// index `deliveries_due`: rows waiting in backoff are not read. While
/// claimed, a row is due again (`lease_due_at`) at its lease's end plus its
/// attempt's backoff, for the case its worker dies. The limit is written into the SQL, not
/// bound: SQLite's planner reads a bound LIMIT's value, so binding one
/// expires the statement, and every claim was parsed and planned again
/// (measured: most of a claim's cost). One cached statement per limit.
fn claim_sql(limit: usize) -> String {
    let (compare, limit) =
        if limit == 1 { ("=", 1) } else { ("IN", i64::try_from(limit).unwrap_or(i64::MAX)) };
    format!(
        "UPDATE deliveries SET claimed_by = ?1, claimed_until = ?2, attempts = attempts + 1, \
           claim_token = ?6, lease_due_at = ?2 + {backoff} \
         WHERE rowid {compare} (SELECT rowid FROM deliveries \
           WHERE processed_at IS NULL AND failed_at IS NULL AND {due} <= ?3 AND attempts < ?4 \
           ORDER BY {due} LIMIT {limit}) \
         RETURNING webhook_id, event_type, webhook_timestamp, body, authenticated, attempts, replay_key",
        backoff = backoff!("attempts + 1"),
        due = sqlite_due!(),
    )
}

/// Marks the row processed if `token`'s claim still holds it. A repeat by
/// the same claim (a commit whose answer was lost) finds it processed by
/// itself and says so, keeping the first time.
fn complete(
    transaction: &rusqlite::Transaction<'_>,
    id: &str,
    token: i64,
    worker: &str,
    now: i64,
) -> Result<bool, InboxError> {
    let changed = transaction
        .prepare_cached(
            "UPDATE deliveries SET processed_at = coalesce(processed_at, ?4), \
               processed_by = coalesce(processed_by, ?3), claimed_by = NULL, claimed_until = NULL, \
               lease_due_at = NULL \
             WHERE webhook_id = ?1 AND claim_token = ?2 AND failed_at IS NULL",
        )?
        .execute(params![id, token, worker, now])?;
    Ok(changed == 1)
}

fn renew(
    transaction: &rusqlite::Transaction<'_>,
    id: &str,
    token: i64,
    lease: i64,
    now: i64,
    policy: &RetryPolicy,
) -> Result<bool, InboxError> {
    let sql = concat!(
        "UPDATE deliveries SET claimed_until = ?3 + ?4, lease_due_at = ?3 + ?4 + ",
        backoff!("attempts"),
        " WHERE webhook_id = ?1 AND claim_token = ?2 AND processed_at IS NULL AND failed_at IS NULL"
    );
    let changed =
        transaction.prepare_cached(sql)?.execute(params![id, token, now, lease, policy.cap_secs()])?;
    Ok(changed == 1)
}

/// A retry in `retry_in` seconds, or a dead letter after the last attempt:
/// one conditional statement.
fn fail(
    transaction: &rusqlite::Transaction<'_>,
    id: &str,
    token: i64,
    now: i64,
    retry_in: i64,
    max_attempts: i64,
    error: &str,
) -> Result<Failed, InboxError> {
    let mut statement = transaction.prepare_cached(
        "UPDATE deliveries SET \
           failed_at = CASE WHEN attempts >= ?5 THEN ?3 ELSE NULL END, \
           next_attempt_at = CASE WHEN attempts >= ?5 THEN next_attempt_at ELSE ?3 + ?4 END, \
           last_error = ?6, claimed_by = NULL, claimed_until = NULL, lease_due_at = NULL, claim_token = NULL \
         WHERE webhook_id = ?1 AND claim_token = ?2 AND processed_at IS NULL AND failed_at IS NULL \
         RETURNING failed_at, next_attempt_at",
    )?;
    let mut rows = statement.query(params![id, token, now, retry_in, max_attempts, error])?;
    let Some(row) = rows.next()? else { return Ok(Failed::LeaseLost) };
    Failed::from_columns(row.get(0)?, row.get(1)?)
}

fn rescue(transaction: &rusqlite::Transaction<'_>, now: i64, max_attempts: i64) -> Result<u64, InboxError> {
    let sql = concat!(
        "UPDATE deliveries SET failed_at = ?1, last_error = coalesce(last_error, ?3), \
           claimed_by = NULL, claimed_until = NULL, lease_due_at = NULL, claim_token = NULL \
         WHERE processed_at IS NULL AND failed_at IS NULL AND ",
        sqlite_due!(),
        " <= ?1 AND attempts >= ?2"
    );
    let rescued = transaction.prepare_cached(sql)?.execute(params![
        now,
        max_attempts,
        crate::delivery::NEVER_REPORTED
    ])?;
    Ok(changed(rescued))
}

/// One batch of retention: processed rows by when they were received (the
/// dedupe window), dead letters by when they became dead letters.
fn purge(
    transaction: &rusqlite::Transaction<'_>,
    finished: Finished,
    cutoff: i64,
    limit: i64,
) -> Result<u64, InboxError> {
    let sql = format!(
        "DELETE FROM deliveries WHERE rowid IN (SELECT rowid FROM deliveries WHERE {} LIMIT ?2)",
        finished.condition("?1")
    );
    Ok(changed(transaction.prepare_cached(&sql)?.execute(params![cutoff, limit])?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The writer's statements stay compiled from one call to the next: a
    /// statement SQLite re-prepares on every run costs more than its work.
    #[test]
    fn statements_are_not_prepared_again_on_each_call() {
        let mut connection = Connection::open_in_memory().unwrap();
        migrate(&mut connection).unwrap();
        let transaction = connection.transaction().unwrap();
        for (i, now) in (1_000..1_010).enumerate() {
            let delivery = NewDelivery {
                webhook_id: format!("msg_{i}"),
                event_type: "batch.succeeded".to_owned(),
                webhook_timestamp: now,
                body: b"{}".to_vec(),
                authenticated: "hmac".to_owned(),
                received_at: now,
                replay_key: None,
            };
            let policy = RetryPolicy::default();
            insert(&transaction, &delivery).unwrap();
            let claimed = claim(&transaction, "w", 60, now, 1, &policy).unwrap();
            assert_eq!(claimed.len(), 1);
            assert!(
                complete(&transaction, &claimed[0].webhook_id, claimed[0].claim_token, "w", now).unwrap()
            );
            assert!(claim(&transaction, "w", 60, now, 2, &policy).unwrap().is_empty());
        }
        for limit in [1, 2] {
            let claim = transaction.prepare_cached(&claim_sql(limit)).unwrap();
            assert_eq!(claim.get_status(rusqlite::StatementStatus::RePrepare), 0, "limit {limit}");
        }
    }
}
