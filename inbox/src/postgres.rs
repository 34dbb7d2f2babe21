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
//! - Every statement has a client-side bound ([`PostgresOptions`]): a server
//!   that stops answering without closing the connection (frozen, or behind
//!   a network partition that sends no reset) is an error within seconds,
//!   and its connection leaves the pool, instead of a wait until TCP gives up
//!   (about 15 minutes on Linux).

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::delivery::{Claimed, Failed, Inserted, MAX_ATTEMPTS, NewDelivery, RETENTION_SECS};
use crate::error::InboxError;
use crate::{postgres_tls, schema};

const MAX_BATCH: usize = 1024;
/// Connections for the writer, in a pool of their own: a delivery's commit
/// never waits for a connection that worker loops, retention or an operator
/// hold. Two, so a retry on a fresh connection finds one at once.
const WRITER_POOL_SIZE: usize = 2;
/// Connections for everything else: the worker's loops (each holds one only
/// for a statement), retention, readiness and the operator's console.
const POOL_SIZE: usize = 16;
/// How long a checkout, a connect or a recycling check may take.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);
/// Retention deletes up to an hour of rows in one statement: far more time
/// than a delivery's insert, and nobody waits for it.
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
    pub statement_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self { statement_timeout: Duration::from_secs(10) }
    }
}

impl PostgresOptions {
    /// The statement timeout (at least 1 ms).
    #[must_use]
    pub fn with_statement_timeout(self, timeout: Duration) -> Self {
        Self { statement_timeout: timeout.max(Duration::from_millis(1)) }
    }
}

/// A write the writer task commits together with everything else queued:
/// the two that come once per delivery.
enum Write {
    Insert(NewDelivery, oneshot::Sender<Result<Inserted, InboxError>>),
    Complete { id: String, worker: String, now: i64, reply: oneshot::Sender<Result<bool, InboxError>> },
}

impl Write {
    /// Tells the caller how many rows its statement changed, after the commit.
    /// A caller that went away (its request was cancelled) needs no answer.
    fn answer(self, changed: u64) {
        match self {
            Self::Insert(_, reply) => {
                let _ = reply.send(Ok(if changed == 1 { Inserted::New } else { Inserted::Duplicate }));
            }
            Self::Complete { reply, .. } => {
                let _ = reply.send(Ok(changed == 1));
            }
        }
    }

    fn refuse(self, error: InboxError) {
        match self {
            Self::Insert(_, reply) => {
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
    timeout: Duration,
}

const INSERT: &str = "INSERT INTO deliveries \
    (webhook_id, event_type, webhook_timestamp, body, authenticated, received_at) \
    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (webhook_id) DO NOTHING";

const CLAIM: &str = "UPDATE deliveries SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
    WHERE webhook_id IN (SELECT webhook_id FROM deliveries \
      WHERE processed_at IS NULL AND failed_at IS NULL \
        AND (claimed_until IS NULL OR claimed_until < $3) \
        AND (next_attempt_at IS NULL OR next_attempt_at <= $3) \
      ORDER BY received_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
    RETURNING webhook_id, event_type, webhook_timestamp, body, authenticated, attempts";

const COMPLETE: &str = "UPDATE deliveries \
    SET processed_at = $3, processed_by = $2, claimed_by = NULL, claimed_until = NULL \
    WHERE webhook_id = $1 AND claimed_by = $2 AND processed_at IS NULL";

const RENEW: &str = "UPDATE deliveries SET claimed_until = $3 \
    WHERE webhook_id = $1 AND claimed_by = $2 AND processed_at IS NULL";

/// A retry after `backoff_secs(attempts)` (the same formula, in SQL), or a
/// dead letter after the last attempt: one statement, so nothing can change
/// the row between the check and the write.
const FAIL: &str = "UPDATE deliveries SET \
      failed_at = CASE WHEN attempts >= $4::integer THEN $3::bigint ELSE NULL END, \
      next_attempt_at = CASE WHEN attempts >= $4::integer THEN next_attempt_at \
        ELSE $3::bigint + LEAST(1::bigint << LEAST(GREATEST(attempts, 1), 12), 3600) END, \
      claimed_by = NULL, claimed_until = NULL \
    WHERE webhook_id = $1 AND claimed_by = $2 AND processed_at IS NULL \
    RETURNING failed_at, next_attempt_at";

const PURGE: &str = "DELETE FROM deliveries \
    WHERE (processed_at IS NOT NULL OR failed_at IS NOT NULL) AND received_at < $1";

impl Postgres {
    /// Builds the pools (nothing is connected until first use), migrates, and
    /// starts the writer task on a pool of its own.
    pub(crate) async fn connect(url: &str, options: &PostgresOptions) -> Result<Self, InboxError> {
        let (config, tls) = postgres_tls::configure(url)?;
        let timeout = options.statement_timeout;
        let pool = build_pool(config.clone(), tls.clone(), POOL_SIZE)?;
        let (writes, queue) = mpsc::unbounded_channel();
        let inbox = Self { pool, writes, timeout };
        inbox.with_client(timeout, async |client| migrate(client).await).await?;
        tokio::spawn(write_batches(build_pool(config, tls, WRITER_POOL_SIZE)?, queue, timeout));
        Ok(inbox)
    }

    /// Runs `operation` on a pooled connection, for at most `timeout`. A
    /// connection that does not answer in time is taken out of the pool (its
    /// state is unknown: a reply may still be on its way), so the next
    /// checkout opens a fresh one.
    pub(crate) async fn with_client<T>(
        &self,
        timeout: Duration,
        operation: impl AsyncFnOnce(&mut Object) -> Result<T, InboxError>,
    ) -> Result<T, InboxError> {
        let mut client = checkout(&self.pool).await?;
        match tokio::time::timeout(timeout, operation(&mut client)).await {
            Ok(result) => result,
            Err(_) => {
                drop(Object::take(client));
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

    /// [`with_client`](Self::with_client) within the statement timeout.
    pub(crate) async fn bounded<T>(
        &self,
        operation: impl AsyncFnOnce(&mut Object) -> Result<T, InboxError>,
    ) -> Result<T, InboxError> {
        self.with_client(self.timeout, operation).await
    }

    pub(crate) async fn insert(&self, delivery: NewDelivery) -> Result<Inserted, InboxError> {
        self.write(|reply| Write::Insert(delivery, reply)).await
    }

    /// Queues a write for the writer task and waits for its answer, given after the commit.
    async fn write<T>(
        &self,
        write: impl FnOnce(oneshot::Sender<Result<T, InboxError>>) -> Write,
    ) -> Result<T, InboxError> {
        let (reply, answer) = oneshot::channel();
        self.writes.send(write(reply)).map_err(|_| InboxError::Closed)?;
        answer.await.map_err(|_| InboxError::Closed)?
    }

    pub(crate) async fn ping(&self) -> Result<(), InboxError> {
        self.bounded(async |client| Ok(client.simple_query("SELECT 1").await.map(drop)?)).await
    }

    pub(crate) async fn claim(
        &self,
        worker: &str,
        until: i64,
        now: i64,
        limit: usize,
    ) -> Result<Vec<Claimed>, InboxError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.bounded(async |client| {
            let statement = client.prepare_cached(CLAIM).await?;
            let rows = client.query(&statement, &[&worker, &until, &now, &limit]).await?;
            rows.iter().map(claimed).collect()
        })
        .await
    }

    /// Through the writer: the worker's loops share its commits, as deliveries do.
    pub(crate) async fn complete(&self, id: &str, worker: &str, now: i64) -> Result<bool, InboxError> {
        self.write(|reply| Write::Complete { id: id.to_owned(), worker: worker.to_owned(), now, reply }).await
    }

    pub(crate) async fn renew(&self, id: &str, worker: &str, until: i64) -> Result<bool, InboxError> {
        self.execute(RENEW, id, worker, until).await
    }

    /// One conditional UPDATE on the row `id` held by `worker`: whether it changed it.
    async fn execute(&self, sql: &str, id: &str, worker: &str, value: i64) -> Result<bool, InboxError> {
        self.bounded(async |client| {
            let statement = client.prepare_cached(sql).await?;
            Ok(client.execute(&statement, &[&id, &worker, &value]).await? == 1)
        })
        .await
    }

    pub(crate) async fn fail(&self, id: &str, worker: &str, now: i64) -> Result<Failed, InboxError> {
        let max = i32::try_from(MAX_ATTEMPTS).unwrap_or(i32::MAX);
        self.bounded(async |client| {
            let statement = client.prepare_cached(FAIL).await?;
            let Some(row) = client.query_opt(&statement, &[&id, &worker, &now, &max]).await? else {
                return Ok(Failed::LeaseLost);
            };
            Failed::from_columns(row.try_get(0)?, row.try_get(1)?)
        })
        .await
    }

    pub(crate) async fn purge(&self, now: i64) -> Result<u64, InboxError> {
        let cutoff = now.saturating_sub(RETENTION_SECS);
        self.with_client(PURGE_TIMEOUT, async |client| Ok(client.execute(PURGE, &[&cutoff]).await?)).await
    }
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

fn claimed(row: &Row) -> Result<Claimed, InboxError> {
    Ok(Claimed {
        webhook_id: row.try_get(0)?,
        event_type: row.try_get(1)?,
        webhook_timestamp: row.try_get(2)?,
        body: row.try_get(3)?,
        authenticated: row.try_get(4)?,
        attempts: i64::from(row.try_get::<_, i32>(5)?),
    })
}

/// Creates the schema once, under an advisory lock, so instances starting
/// together do not race.
async fn migrate(client: &mut Object) -> Result<(), InboxError> {
    let transaction = client.transaction().await?;
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
        transaction.execute("DELETE FROM inbox_schema", &[]).await?;
        transaction.execute("INSERT INTO inbox_schema (version) VALUES ($1)", &[&schema::VERSION]).await?;
    }
    transaction.commit().await?;
    Ok(())
}

/// Group commit: everything queued goes into one transaction; callers hear
/// back only after the commit.
async fn write_batches(pool: Pool, mut queue: mpsc::UnboundedReceiver<Write>, timeout: Duration) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(write) => batch.push(write),
                Err(_) => break,
            }
        }
        match commit_retrying(&pool, &batch, timeout).await {
            Err(Failure::Other(error)) if batch.len() > 1 => {
                // The server refused a statement (a value it cannot store, such
                // as a NUL in text): that write alone must fail, not every
                // delivery that shared its batch. Each commits on its own.
                tracing::warn!(%error, writes = batch.len(), "inbox batch refused; committing its writes one by one");
                for write in batch {
                    let outcome = commit_retrying(&pool, std::slice::from_ref(&write), timeout).await;
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

/// One try, and one more on a fresh connection if the first one's connection
/// broke (a server restart, a failover, an idle connection cut by a proxy)
/// or did not answer within `timeout` (a frozen server, a partition). Both
/// writes may be repeated: an insert that did commit is then a duplicate
/// (still acknowledged), a completion that did commit changes no row (the
/// worker logs a lost lease, and the row stays processed).
async fn commit_retrying(pool: &Pool, batch: &[Write], timeout: Duration) -> Result<Vec<u64>, Failure> {
    let mut client = checkout(pool).await.map_err(Failure::Connection)?;
    match commit_within(&mut client, batch, timeout).await {
        Err(Failure::Connection(error)) => {
            tracing::warn!(%error, "inbox connection lost; retrying the batch on a fresh one");
            // Never back in the pool: its replacement is opened now.
            drop(Object::take(client));
            let mut fresh = checkout(pool).await.map_err(Failure::Connection)?;
            let outcome = commit_within(&mut fresh, batch, timeout).await;
            if matches!(outcome, Err(Failure::Connection(_))) {
                drop(Object::take(fresh));
            }
            outcome
        }
        other => other,
    }
}

/// [`commit_batch`], for at most `timeout`: past it, the connection failed.
async fn commit_within(client: &mut Object, batch: &[Write], timeout: Duration) -> Result<Vec<u64>, Failure> {
    tokio::time::timeout(timeout, commit_batch(client, batch))
        .await
        .unwrap_or(Err(Failure::Connection(stalled(timeout))))
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
/// (connection exception), or the server shutting down (57P01..57P03).
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
            Write::Insert(d, _) => {
                let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
                    &d.webhook_id,
                    &d.event_type,
                    &d.webhook_timestamp,
                    &d.body,
                    &d.authenticated,
                    &d.received_at,
                ];
                transaction.execute(&insert, &params).await
            }
            Write::Complete { id, worker, now, .. } => {
                transaction.execute(&complete, &[id, worker, now]).await
            }
        }
    });
    let changed = futures_util::future::try_join_all(statements).await?;
    transaction.commit().await?;
    Ok(changed)
}
