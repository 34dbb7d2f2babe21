//! PostgreSQL, for several receiver instances sharing one inbox.
//!
//! - Connections come from a deadpool pool whose recycling check drops closed
//!   connections, so a restarted server is reconnected on the next checkout,
//!   without a restart of the receiver.
//! - Inserts and completions (the writes that come once per delivery) go
//!   through one writer task that commits everything queued in one
//!   transaction (group commit), its statements pipelined (one round trip),
//!   on connections of its own that nothing else can hold. A batch that
//!   fails because its connection broke is retried once on a fresh one (both
//!   writes are safe to repeat) before its callers hear an error (503).
//! - Claims use `FOR UPDATE SKIP LOCKED`; every state change is one
//!   conditional statement whose affected rows are checked.
//! - Rows are read with `try_get`: a schema surprise is an error, never a panic.
//! - Every statement has a bound ([`PostgresOptions`]) on both sides: the
//!   server's `statement_timeout` (and `idle_in_transaction_session_timeout`)
//!   stops a slow query there, so a timeout does not leave it adding load;
//!   the client's own timer makes a server that stops answering without
//!   closing the connection (frozen, or behind a network partition that sends
//!   no reset) an error within seconds, sends the server a cancel request,
//!   and takes the connection out of the pool, instead of a wait until TCP
//!   gives up (about 15 minutes on Linux).
//! - Leases, due times and backoff are counted on the server's clock, so
//!   instances whose clocks disagree still agree on who holds a row.

mod operator;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::delivery::{Claimed, Failed, Inserted, NewDelivery, claim_token};
use crate::error::InboxError;
use crate::inbox::PoolStatus;
use crate::policy::{Finished, RetryPolicy};
use crate::schema;

const MAX_BATCH: usize = 1024;
/// Connections for the writer, in a pool of their own: a delivery's commit
/// never waits for a connection that worker loops, retention or an operator
/// hold. Two, so a retry on a fresh connection finds one at once.
const WRITER_POOL_SIZE: usize = 2;
/// How long a checkout, a connect or a recycling check may take.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a schema migration may take: index builds read every row.
const MIGRATE_TIMEOUT: Duration = Duration::from_secs(600);

/// An operator's purge may delete days of rows in one statement.
pub(crate) const PURGE_TIMEOUT: Duration = Duration::from_secs(600);

/// How to connect to a PostgreSQL inbox, beyond its URL.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// How long one operation (a batch of inserts and its commit, a claim, a
    /// renewal) may wait for the server (default 10 s); an operator's read
    /// (stats, list, get, retry) gets six times as long. Past it the caller
    /// gets an error (a delivery: 503, so the sender retries), and the
    /// connection, whose state is then unknown, is dropped from the pool.
    /// The server is told the same (`statement_timeout`, and
    /// `idle_in_transaction_session_timeout` at twice it), so it stops the
    /// query too.
    pub statement_timeout: Duration,
    /// The most inserts and completions waiting for the writer (default
    /// [`DEFAULT_QUEUE_BOUND`](crate::DEFAULT_QUEUE_BOUND)); past it, writes
    /// are refused with [`InboxError::Overloaded`] at once.
    pub queue_bound: usize,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self { statement_timeout: Duration::from_secs(10), queue_bound: crate::DEFAULT_QUEUE_BOUND }
    }
}

impl PostgresOptions {
    /// The statement timeout (at least 1 ms).
    #[must_use]
    pub fn with_statement_timeout(self, timeout: Duration) -> Self {
        Self { statement_timeout: timeout.max(Duration::from_millis(1)), ..self }
    }

    /// The write queue's bound (at least 1).
    #[must_use]
    pub fn with_queue_bound(self, queue_bound: usize) -> Self {
        Self { queue_bound: queue_bound.max(1), ..self }
    }
}

/// How many connections the workers' pool opens: claims, renewals,
/// failures, retention, readiness and the operator share it.
pub const POOL_SIZE: usize = 16;

/// A write the writer task commits together with everything else queued:
/// the two that come once per delivery.
enum Write {
    Insert(
        NewDelivery,
        oneshot::Sender<Result<Inserted, InboxError>>,
        // Held for its drop: given back once the insert is answered.
        #[expect(dead_code, reason = "held for its Drop")] crate::queue::Slot,
    ),
    Complete {
        id: String,
        token: i64,
        worker: String,
        now: Option<i64>,
        reply: oneshot::Sender<Result<bool, InboxError>>,
    },
}

impl Write {
    /// Tells the caller how many rows its statement changed, after the commit.
    /// A caller that went away (its request was cancelled) needs no answer.
    fn answer(self, changed: u64) {
        match self {
            Self::Insert(_, reply, _) => {
                let _ = reply.send(Ok(if changed == 1 { Inserted::New } else { Inserted::Duplicate }));
            }
            Self::Complete { reply, .. } => {
                let _ = reply.send(Ok(changed == 1));
            }
        }
    }

    /// Whether the caller stopped waiting (a delivery past its commit timeout).
    fn abandoned(&self) -> bool {
        match self {
            Self::Insert(_, reply, _) => reply.is_closed(),
            Self::Complete { reply, .. } => reply.is_closed(),
        }
    }

    fn refuse(self, error: InboxError) {
        match self {
            Self::Insert(_, reply, _) => {
                let _ = reply.send(Err(error));
            }
            Self::Complete { reply, .. } => {
                let _ = reply.send(Err(error));
            }
        }
    }
}

/// The pool and the writer of a PostgreSQL inbox.
pub(crate) struct Postgres {
    pool: Pool,
    writes: mpsc::UnboundedSender<Write>,
    /// Inserts queued for the writer, at most `queue_bound`.
    queued: Arc<crate::QueuedInserts>,
    timeout: Duration,
    /// For cancel requests, which open a connection of their own.
    tls: MakeRustlsConnect,
}

/// "now" in the statements below: the caller's Unix seconds if given (tests),
/// else the server's clock.
macro_rules! now {
    ($n:literal) => {
        concat!("COALESCE($", $n, "::bigint, floor(extract(epoch FROM now()))::bigint)")
    };
}

/// The backoff after attempt `attempts` in SQL, without jitter, capped at
/// `$5`: [`RetryPolicy::backoff`], to the second (tested equal); at least
/// one second past the lease, so a lease is never due at its own last second.
macro_rules! backoff {
    ($attempts:literal) => {
        concat!("GREATEST(1, LEAST($5::bigint, 1::bigint << LEAST(GREATEST(", $attempts, ", 1), 40)))")
    };
}

/// No conflict target: a `webhook_id` or a `replay_key` already there is a
/// duplicate. A `received_at` ahead of the server's clock (an instance whose
/// clock runs fast) is stored as the server's now: a new row is due at its
/// `received_at`, and due times are the server's.
const INSERT: &str = concat!(
    "INSERT INTO deliveries \
    (webhook_id, event_type, webhook_timestamp, body, authenticated, received_at, replay_key) \
    VALUES ($1, $2, $3, $4, $5, LEAST($6::bigint, ",
    now!(8),
    "), $7) ON CONFLICT DO NOTHING"
);

/// Oldest due first, through the partial index `deliveries_due`: rows
/// waiting in backoff are not read. While claimed, a row is due again
/// (`lease_due_at`) at its lease's end plus its attempt's backoff, for the
/// case its worker dies.
const CLAIM: &str = concat!(
    "UPDATE deliveries SET claimed_by = $1, claimed_until = ",
    now!(3),
    " + $2, attempts = attempts + 1, claim_token = $6, lease_due_at = ",
    now!(3),
    " + $2 + ",
    backoff!("attempts + 1"),
    " WHERE webhook_id IN (SELECT webhook_id FROM deliveries \
      WHERE processed_at IS NULL AND failed_at IS NULL AND ",
    postgres_due!(),
    " <= ",
    now!(3),
    " AND attempts < $4::bigint ORDER BY ",
    postgres_due!(),
    " LIMIT $7 FOR UPDATE SKIP LOCKED) \
    RETURNING webhook_id, event_type, webhook_timestamp, body, authenticated, attempts, replay_key"
);

/// Processed if the claim still holds the row; a repeat by the same claim (a
/// batch retried after its commit's answer was lost) finds it processed by
/// itself and says so, keeping the first time.
const COMPLETE: &str = concat!(
    "UPDATE deliveries SET processed_at = COALESCE(processed_at, ",
    now!(4),
    "), processed_by = COALESCE(processed_by, $3), claimed_by = NULL, claimed_until = NULL, \
    lease_due_at = NULL \
    WHERE webhook_id = $1 AND claim_token = $2 AND failed_at IS NULL"
);

const RENEW: &str = concat!(
    "UPDATE deliveries SET claimed_until = ",
    now!(3),
    " + $4, lease_due_at = ",
    now!(3),
    " + $4 + ",
    backoff!("attempts"),
    " WHERE webhook_id = $1 AND claim_token = $2 AND processed_at IS NULL AND failed_at IS NULL"
);

/// A retry in `$4` seconds, or a dead letter after the last attempt: one
/// statement, so nothing can change the row between the check and the write.
const FAIL: &str = concat!(
    "UPDATE deliveries SET \
      failed_at = CASE WHEN attempts >= $5::bigint THEN ",
    now!(3),
    " ELSE NULL END, \
      next_attempt_at = CASE WHEN attempts >= $5::bigint THEN next_attempt_at ELSE ",
    now!(3),
    " + $4 END, last_error = $6, claimed_by = NULL, claimed_until = NULL, lease_due_at = NULL, \
    claim_token = NULL \
    WHERE webhook_id = $1 AND claim_token = $2 AND processed_at IS NULL AND failed_at IS NULL \
    RETURNING failed_at, next_attempt_at"
);

const RESCUE: &str = concat!(
    "UPDATE deliveries SET failed_at = ",
    now!(1),
    ", last_error = COALESCE(last_error, $3), claimed_by = NULL, claimed_until = NULL, \
    lease_due_at = NULL, claim_token = NULL \
    WHERE processed_at IS NULL AND failed_at IS NULL AND ",
    postgres_due!(),
    " <= ",
    now!(1),
    " AND attempts >= $2::bigint"
);

impl Postgres {
    /// Builds the pools (nothing is connected until first use), migrates, and
    /// starts the writer task on a pool of its own.
    pub(crate) async fn connect(url: &str, options: &PostgresOptions) -> Result<Self, InboxError> {
        let (mut config, tls) = tls::configure(url)?;
        let timeout = options.statement_timeout;
        server_timeouts(&mut config, timeout);
        let pool = build_pool(config.clone(), tls.clone(), POOL_SIZE)?;
        let (writes, queue) = mpsc::unbounded_channel();
        let queued = Arc::new(crate::QueuedInserts::new(options.queue_bound));
        let inbox = Self { pool, writes, queued, timeout, tls: tls.clone() };
        // A migration reads the whole table (index builds): its own bounds.
        inbox.with_client(MIGRATE_TIMEOUT, async |client| migrate(client).await).await?;
        let writer = Writer { pool: build_pool(config, tls.clone(), WRITER_POOL_SIZE)?, timeout, tls };
        tokio::spawn(write_batches(writer, queue));
        Ok(inbox)
    }

    /// Runs `operation` on a pooled connection, for at most `timeout`. A
    /// connection that does not answer in time is taken out of the pool (its
    /// state is unknown: a reply may still be on its way), so the next
    /// checkout opens a fresh one, and the server is asked to cancel the query.
    pub(crate) async fn with_client<T>(
        &self,
        timeout: Duration,
        operation: impl AsyncFnOnce(&mut Object) -> Result<T, InboxError>,
    ) -> Result<T, InboxError> {
        let mut client = checkout(&self.pool).await?;
        match tokio::time::timeout(timeout, operation(&mut client)).await {
            Ok(result) => result,
            Err(_) => {
                abandon(client, &self.tls);
                Err(stalled(timeout))
            }
        }
    }

    /// The operator's reads (counts over a day of rows, lists) get six times
    /// the statement timeout (60 s by default): longer than an insert needs,
    /// still bounded.
    pub(crate) fn operator_timeout(&self) -> Duration {
        self.timeout.saturating_mul(6)
    }

    /// [`with_client`](Self::with_client) for an operator's request: `timeout`
    /// on both sides (the session's server timeout raised for it, then reset).
    pub(crate) async fn operator<T>(
        &self,
        timeout: Duration,
        operation: impl AsyncFnOnce(&mut Object) -> Result<T, InboxError>,
    ) -> Result<T, InboxError> {
        self.with_client(timeout, async |client| {
            client.batch_execute(&format!("SET statement_timeout = {}", timeout.as_millis())).await?;
            let outcome = operation(client).await;
            client.batch_execute("RESET statement_timeout").await?;
            outcome
        })
        .await
    }

    /// [`with_client`](Self::with_client) within the statement timeout.
    pub(crate) async fn bounded<T>(
        &self,
        operation: impl AsyncFnOnce(&mut Object) -> Result<T, InboxError>,
    ) -> Result<T, InboxError> {
        self.with_client(self.timeout, operation).await
    }

    pub(crate) fn queue_depth(&self) -> usize {
        self.queued.depth()
    }

    pub(crate) fn pool_status(&self) -> PoolStatus {
        let status = self.pool.status();
        PoolStatus {
            max_size: status.max_size,
            size: status.size,
            available: status.available,
            waiting: status.waiting,
        }
    }

    /// Refused at once when the queue holds its bound of inserts: a stalled
    /// server must not make the queue hold every body that arrives meanwhile.
    pub(crate) async fn insert(&self, delivery: NewDelivery) -> Result<Inserted, InboxError> {
        let slot = self.queued.take()?;
        self.write(|reply| Write::Insert(delivery, reply, slot)).await
    }

    /// Queues a write for the writer task and waits for its answer, given
    /// after the commit; refused at once if the queue is full.
    async fn write<T>(
        &self,
        write: impl FnOnce(oneshot::Sender<Result<T, InboxError>>) -> Write,
    ) -> Result<T, InboxError> {
        let (reply, answer) = oneshot::channel();
        self.writes.send(write(reply)).map_err(|_| InboxError::Closed)?;
        answer.await.map_err(|_| InboxError::Closed)?
    }

    /// Answers, and takes writes: a standby (in recovery, or read-only)
    /// answers queries but would refuse every delivery.
    pub(crate) async fn ping(&self) -> Result<(), InboxError> {
        self.bounded(async |client| {
            let row = client
                .query_one("SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'", &[])
                .await?;
            let (recovering, read_only): (bool, bool) = (row.try_get(0)?, row.try_get(1)?);
            if recovering || read_only {
                return Err(InboxError::Database("PostgreSQL is a read-only standby".to_owned()));
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn claim(
        &self,
        worker: &str,
        lease: i64,
        now: Option<i64>,
        limit: usize,
        policy: &RetryPolicy,
    ) -> Result<Vec<Claimed>, InboxError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let token = claim_token();
        let (max_attempts, cap) = (policy.max_attempts_i64(), policy.cap_secs());
        self.bounded(async |client| {
            let statement = client.prepare_cached(CLAIM).await?;
            let rows = client
                .query(&statement, &[&worker, &lease, &now, &max_attempts, &cap, &token, &limit])
                .await?;
            rows.iter().map(|row| claimed(row, token)).collect()
        })
        .await
    }

    /// Through the writer: the worker's tasks share its commits, as deliveries do.
    pub(crate) async fn complete(
        &self,
        id: String,
        token: i64,
        worker: String,
        now: Option<i64>,
    ) -> Result<bool, InboxError> {
        self.write(|reply| Write::Complete { id, token, worker, now, reply }).await
    }

    pub(crate) async fn renew(
        &self,
        row: &Claimed,
        lease: i64,
        now: Option<i64>,
        policy: &RetryPolicy,
    ) -> Result<bool, InboxError> {
        let cap = policy.cap_secs();
        self.bounded(async |client| {
            let statement = client.prepare_cached(RENEW).await?;
            Ok(client.execute(&statement, &[&row.webhook_id, &row.claim_token, &now, &lease, &cap]).await?
                == 1)
        })
        .await
    }

    pub(crate) async fn fail(
        &self,
        row: &Claimed,
        now: Option<i64>,
        retry_in: i64,
        max_attempts: i64,
        error: &str,
    ) -> Result<Failed, InboxError> {
        self.bounded(async |client| {
            let statement = client.prepare_cached(FAIL).await?;
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] =
                [&row.webhook_id, &row.claim_token, &now, &retry_in, &max_attempts, &error];
            let Some(found) = client.query_opt(&statement, &params).await? else {
                return Ok(Failed::LeaseLost);
            };
            Failed::from_columns(found.try_get(0)?, found.try_get(1)?)
        })
        .await
    }

    pub(crate) async fn rescue(&self, now: Option<i64>, max_attempts: i64) -> Result<u64, InboxError> {
        let reason = crate::delivery::NEVER_REPORTED;
        self.bounded(async |client| Ok(client.execute(RESCUE, &[&now, &max_attempts, &reason]).await?)).await
    }

    /// One batch of retention: up to `limit` rows, within the statement timeout.
    pub(crate) async fn purge(&self, finished: Finished, cutoff: i64, limit: i64) -> Result<u64, InboxError> {
        let sql = format!(
            "DELETE FROM deliveries WHERE webhook_id IN (SELECT webhook_id FROM deliveries \
               WHERE {} LIMIT $2)",
            finished.condition("$1")
        );
        self.bounded(async |client| Ok(client.execute(&sql, &[&cutoff, &limit]).await?)).await
    }
}

/// Tells the server the statement timeout, so it stops a query that outlives
/// it (a client-side timeout alone leaves it running, adding load to a slow
/// database), and a transaction left idle (a client gone mid-way) is ended.
fn server_timeouts(config: &mut tokio_postgres::Config, timeout: Duration) {
    let millis = timeout.as_millis().max(1);
    let ours = format!(
        "-c statement_timeout={millis} -c idle_in_transaction_session_timeout={}",
        millis.saturating_mul(2)
    );
    let options = match config.get_options() {
        Some(given) if !given.is_empty() => format!("{given} {ours}"),
        _ => ours,
    };
    config.options(options);
}

/// Takes a connection that did not answer in time out of the pool, and asks
/// the server (on a connection of its own, within a bound) to cancel whatever
/// it was running.
fn abandon(client: Object, tls: &MakeRustlsConnect) {
    let cancel = client.cancel_token();
    let tls = tls.clone();
    drop(Object::take(client));
    tokio::spawn(async move {
        if let Ok(Err(error)) = tokio::time::timeout(POOL_TIMEOUT, cancel.cancel_query(tls)).await {
            tracing::debug!(%error, "cannot send PostgreSQL a cancel request");
        }
    });
}

/// A pool of `size` connections (none connected until first use) whose
/// recycling check replaces closed ones, every wait bounded by [`POOL_TIMEOUT`].
fn build_pool(
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    size: usize,
) -> Result<Pool, InboxError> {
    let manager =
        Manager::from_config(config, tls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(POOL_TIMEOUT))
        .create_timeout(Some(POOL_TIMEOUT))
        .recycle_timeout(Some(POOL_TIMEOUT))
        .build()
        .map_err(|e| InboxError::Database(e.to_string()))
}

/// A pooled connection; a closed one is replaced by the pool's recycling check.
async fn checkout(pool: &Pool) -> Result<Object, InboxError> {
    pool.get().await.map_err(|e| InboxError::Database(format!("PostgreSQL unavailable: {e}")))
}

fn stalled(timeout: Duration) -> InboxError {
    InboxError::Database(format!("PostgreSQL did not answer within {timeout:?}"))
}

fn claimed(row: &Row, token: i64) -> Result<Claimed, InboxError> {
    Ok(Claimed {
        webhook_id: row.try_get(0)?,
        event_type: row.try_get(1)?,
        webhook_timestamp: row.try_get(2)?,
        body: row.try_get(3)?,
        authenticated: row.try_get(4)?,
        attempts: i64::from(row.try_get::<_, i32>(5)?),
        claim_token: token,
        replay_key: row.try_get(6)?,
    })
}

/// The schema's version, if the version table is there: read without writing,
/// so an inbox already migrated opens on a read-only server too (and is then
/// reported not ready by `ping`, instead of failing to start).
async fn schema_version(client: &Object) -> Result<Option<i64>, InboxError> {
    let table: Option<String> =
        client.query_one("SELECT to_regclass('inbox_schema')::text", &[]).await?.try_get(0)?;
    if table.is_none() {
        return Ok(None);
    }
    match client.query_opt("SELECT version FROM inbox_schema", &[]).await? {
        Some(row) => Ok(Some(row.try_get(0)?)),
        None => Ok(None),
    }
}

/// Creates or upgrades the schema once, under an advisory lock, so instances
/// starting together do not race.
async fn migrate(client: &mut Object) -> Result<(), InboxError> {
    match schema_version(client).await? {
        Some(version) if version > schema::VERSION => return Err(InboxError::SchemaTooNew(version)),
        Some(schema::VERSION) => return check_columns(client).await,
        _ => {}
    }
    let transaction = client.transaction().await?;
    // The session's statement timeout bounds deliveries' statements, not a
    // migration's index builds; a lock held elsewhere is still waited for
    // only so long.
    transaction
        .batch_execute(&format!(
            "SET LOCAL statement_timeout = {}; SET LOCAL lock_timeout = '30s'",
            MIGRATE_TIMEOUT.as_millis()
        ))
        .await?;
    transaction.execute("SELECT pg_advisory_xact_lock(7306745105)", &[]).await?;
    transaction.batch_execute("CREATE TABLE IF NOT EXISTS inbox_schema (version BIGINT NOT NULL)").await?;
    let version: i64 = match transaction.query_opt("SELECT version FROM inbox_schema", &[]).await? {
        Some(row) => row.try_get(0)?,
        None => 0,
    };
    if version > schema::VERSION {
        return Err(InboxError::SchemaTooNew(version));
    }
    if version < 1 {
        transaction.batch_execute(schema::POSTGRES_V1).await?;
    }
    if version < 2 {
        transaction.batch_execute(schema::POSTGRES_V2).await?;
        transaction.execute("DELETE FROM inbox_schema", &[]).await?;
        transaction.execute("INSERT INTO inbox_schema (version) VALUES ($1)", &[&schema::VERSION]).await?;
    }
    transaction.commit().await?;
    check_columns(client).await
}

/// [`schema::EVERY_COLUMN`]: a missing table or column (SQLSTATE 42P01,
/// 42703) is a [`InboxError::SchemaMismatch`], anything else as it comes.
async fn check_columns(client: &Object) -> Result<(), InboxError> {
    use tokio_postgres::error::SqlState;
    match client.execute(schema::EVERY_COLUMN, &[]).await {
        Ok(_) => Ok(()),
        Err(error)
            if matches!(error.code(), Some(&SqlState::UNDEFINED_TABLE | &SqlState::UNDEFINED_COLUMN)) =>
        {
            let message = error.as_db_error().map_or_else(|| error.to_string(), |db| db.message().to_owned());
            Err(InboxError::SchemaMismatch(message))
        }
        Err(error) => Err(error.into()),
    }
}

/// "now" for the statements' clock parameter: the server's.
const SERVER_CLOCK: Option<i64> = None;

/// The writer task's connections and bounds.
struct Writer {
    pool: Pool,
    timeout: Duration,
    tls: MakeRustlsConnect,
}

/// Group commit: everything queued goes into one transaction; callers hear
/// back only after the commit.
async fn write_batches(writer: Writer, mut queue: mpsc::UnboundedReceiver<Write>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(write) => batch.push(write),
                Err(_) => break,
            }
        }
        // A caller that gave up (a delivery past its commit timeout, already
        // answered 503) is not written now: its sender retries, and a stale
        // write would only delay the live ones behind it.
        batch.retain(|write| !write.abandoned());
        if batch.is_empty() {
            continue;
        }
        match writer.commit_retrying(&batch).await {
            Err(Failure::Other(error)) if batch.len() > 1 => {
                // The server refused a statement (a value it cannot store, such
                // as a NUL in text): that write alone must fail, not every
                // delivery that shared its batch. Each commits on its own.
                tracing::warn!(%error, writes = batch.len(), "inbox batch refused; committing its writes one by one");
                for write in batch {
                    let outcome = writer.commit_retrying(std::slice::from_ref(&write)).await;
                    settle(vec![write], outcome);
                }
            }
            outcome => settle(batch, outcome),
        }
    }
}

/// Answers every write of a batch with how many rows its statement changed,
/// or refuses them all with the batch's error.
fn settle(batch: Vec<Write>, outcome: Result<Vec<u64>, Failure>) {
    match outcome {
        Ok(changed) => batch.into_iter().zip(changed).for_each(|(write, changed)| write.answer(changed)),
        Err(failure) => {
            let error = failure.into_inbox();
            tracing::error!(%error, writes = batch.len(), "inbox batch rolled back");
            batch.into_iter().for_each(|write| write.refuse(error.clone()));
        }
    }
}

impl Writer {
    /// One try, and one more on a fresh connection if the first one's
    /// connection broke (a server restart, a failover, an idle connection cut
    /// by a proxy) or did not answer within the timeout (a frozen server, a
    /// partition). Both writes may be repeated: an insert that did commit is
    /// then a duplicate (still acknowledged), a completion that did commit
    /// finds the row processed by its own claim (still processed).
    async fn commit_retrying(&self, batch: &[Write]) -> Result<Vec<u64>, Failure> {
        let mut client = checkout(&self.pool).await.map_err(Failure::Connection)?;
        match self.commit_within(&mut client, batch).await {
            Err(Failure::Connection(error)) => {
                tracing::warn!(%error, "inbox connection lost; retrying the batch on a fresh one");
                // Never back in the pool: its replacement is opened now.
                abandon(client, &self.tls);
                let mut fresh = checkout(&self.pool).await.map_err(Failure::Connection)?;
                let outcome = self.commit_within(&mut fresh, batch).await;
                if matches!(outcome, Err(Failure::Connection(_))) {
                    abandon(fresh, &self.tls);
                }
                outcome
            }
            other => other,
        }
    }

    /// [`commit_batch`], for at most the timeout: past it, the connection failed.
    async fn commit_within(&self, client: &mut Object, batch: &[Write]) -> Result<Vec<u64>, Failure> {
        tokio::time::timeout(self.timeout, commit_batch(client, batch))
            .await
            .unwrap_or(Err(Failure::Connection(stalled(self.timeout))))
    }
}

/// A statement error, told apart by whether retrying elsewhere can help.
enum Failure {
    Connection(InboxError),
    Other(InboxError),
}

impl Failure {
    fn into_inbox(self) -> InboxError {
        match self {
            Self::Connection(error) | Self::Other(error) => error,
        }
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Self {
        if is_connection_error(&error) { Self::Connection(error.into()) } else { Self::Other(error.into()) }
    }
}

/// The connection, not the statement, failed: closed, an IO error, class 08
/// (connection exception), or the server shutting down (57P01..57P03). The
/// server's own statement timeout (57014) is not retried: the server is slow,
/// and a second try would only double its load.
fn is_connection_error(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.code() {
        Some(code) => {
            code.code().starts_with("08")
                || [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW]
                    .contains(code)
        }
        // No SQLSTATE: the server never answered (an IO error on the socket).
        None => std::error::Error::source(error).is_some_and(|source| source.is::<std::io::Error>()),
    }
}

/// The batch's statements are pipelined: all are sent before the first
/// answer is read (tokio-postgres pipelines the queries a connection is given
/// at once), so a batch costs one round trip and a commit, not one per write.
/// Returns how many rows each statement changed.
async fn commit_batch(client: &mut Object, batch: &[Write]) -> Result<Vec<u64>, Failure> {
    let transaction = client.transaction().await?;
    let insert = transaction.prepare_cached(INSERT).await?;
    let complete = transaction.prepare_cached(COMPLETE).await?;
    let statements = batch.iter().map(|write| async {
        match write {
            Write::Insert(d, _, _) => {
                let params: [&(dyn tokio_postgres::types::ToSql + Sync); 8] = [
                    &d.webhook_id,
                    &d.event_type,
                    &d.webhook_timestamp,
                    &d.body,
                    &d.authenticated,
                    &d.received_at,
                    &d.replay_key,
                    &SERVER_CLOCK,
                ];
                transaction.execute(&insert, &params).await
            }
            Write::Complete { id, token, worker, now, .. } => {
                transaction.execute(&complete, &[id, token, worker, now]).await
            }
        }
    });
    let changed = futures_util::future::try_join_all(statements).await?;
    transaction.commit().await?;
    Ok(changed)
}
