//! PostgreSQL, for several receiver instances sharing one inbox. Inserts go
//! through one writer task that commits everything queued in one transaction
//! (group commit); claims use `FOR UPDATE SKIP LOCKED`, so instances never
//! claim the same row while its lease lives.

use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_postgres::{Client, NoTls};

use crate::delivery::{Claimed, Failed, Inserted, MAX_ATTEMPTS, NewDelivery, RETENTION_SECS, backoff_secs};
use crate::error::InboxError;
use crate::schema;

const MAX_BATCH: usize = 1024;

type InsertOp = (NewDelivery, oneshot::Sender<Result<Inserted, InboxError>>);

/// The connections of a PostgreSQL inbox.
pub(crate) struct Postgres {
    inserts: mpsc::UnboundedSender<InsertOp>,
    worker: Mutex<Client>,
}

async fn connect(url: &str) -> Result<Client, InboxError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::error!(%error, "inbox PostgreSQL connection lost");
        }
    });
    Ok(client)
}

impl Postgres {
    /// Connects twice (inserts, worker), migrates, and starts the writer task.
    pub(crate) async fn connect(url: &str) -> Result<Self, InboxError> {
        let mut writer = connect(url).await?;
        let worker = connect(url).await?;
        migrate(&mut writer).await?;
        let (inserts, queue) = mpsc::unbounded_channel();
        tokio::spawn(write_inserts(writer, queue));
        Ok(Self { inserts, worker: Mutex::new(worker) })
    }

    pub(crate) async fn insert(&self, delivery: NewDelivery) -> Result<Inserted, InboxError> {
        let (reply, answer) = oneshot::channel();
        self.inserts.send((delivery, reply)).map_err(|_| InboxError::Closed)?;
        answer.await.map_err(|_| InboxError::Closed)?
    }

    pub(crate) async fn ping(&self) -> Result<(), InboxError> {
        self.worker.lock().await.simple_query("SELECT 1").await?;
        Ok(())
    }

    pub(crate) async fn claim(
        &self,
        worker: &str,
        until: i64,
        now: i64,
        limit: usize,
    ) -> Result<Vec<Claimed>, InboxError> {
        let client = self.worker.lock().await;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(
                "UPDATE deliveries SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
                 WHERE webhook_id IN (SELECT webhook_id FROM deliveries \
                   WHERE processed_at IS NULL AND failed_at IS NULL \
                     AND (claimed_until IS NULL OR claimed_until < $3) \
                     AND (next_attempt_at IS NULL OR next_attempt_at <= $3) \
                   ORDER BY received_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
                 RETURNING webhook_id, event_type, webhook_timestamp, body, authenticated, attempts",
                &[&worker, &until, &now, &limit],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| Claimed {
                webhook_id: row.get(0),
                event_type: row.get(1),
                webhook_timestamp: row.get(2),
                body: row.get(3),
                authenticated: row.get(4),
                attempts: i64::from(row.get::<_, i32>(5)),
            })
            .collect())
    }

    pub(crate) async fn complete(&self, id: &str, worker: &str, now: i64) -> Result<bool, InboxError> {
        let client = self.worker.lock().await;
        let changed = client
            .execute(
                "UPDATE deliveries SET processed_at = $3, processed_by = $2, claimed_by = NULL, claimed_until = NULL \
                 WHERE webhook_id = $1 AND claimed_by = $2 AND processed_at IS NULL",
                &[&id, &worker, &now],
            )
            .await?;
        Ok(changed == 1)
    }

    pub(crate) async fn fail(&self, id: &str, worker: &str, now: i64) -> Result<Failed, InboxError> {
        let client = self.worker.lock().await;
        let row = client
            .query_opt(
                "SELECT attempts FROM deliveries WHERE webhook_id = $1 AND claimed_by = $2 AND processed_at IS NULL",
                &[&id, &worker],
            )
            .await?;
        let Some(row) = row else { return Ok(Failed::LeaseLost) };
        let attempts = i64::from(row.get::<_, i32>(0));
        // After the last attempt: a dead letter; before it: a retry after the backoff.
        let (failed_at, next_attempt_at, outcome) = if attempts >= MAX_ATTEMPTS {
            (Some(now), None, Failed::DeadLetter)
        } else {
            let next = now.saturating_add(backoff_secs(attempts));
            (None, Some(next), Failed::Retry { next_attempt_at: next })
        };
        client
            .execute(
                "UPDATE deliveries SET failed_at = $2, next_attempt_at = COALESCE($3, next_attempt_at), \
                 claimed_by = NULL, claimed_until = NULL WHERE webhook_id = $1 AND claimed_by = $4",
                &[&id, &failed_at, &next_attempt_at, &worker],
            )
            .await?;
        Ok(outcome)
    }

    pub(crate) async fn purge(&self, now: i64) -> Result<u64, InboxError> {
        let client = self.worker.lock().await;
        Ok(client
            .execute(
                "DELETE FROM deliveries WHERE (processed_at IS NOT NULL OR failed_at IS NOT NULL) AND received_at < $1",
                &[&now.saturating_sub(RETENTION_SECS)],
            )
            .await?)
    }
}

/// Creates the schema once, under an advisory lock, so instances starting
/// together do not race.
async fn migrate(client: &mut Client) -> Result<(), InboxError> {
    let transaction = client.transaction().await?;
    transaction.execute("SELECT pg_advisory_xact_lock(7306745105)", &[]).await?;
    transaction.batch_execute("CREATE TABLE IF NOT EXISTS inbox_schema (version BIGINT NOT NULL)").await?;
    let version: i64 =
        transaction.query_opt("SELECT version FROM inbox_schema", &[]).await?.map_or(0, |row| row.get(0));
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
async fn write_inserts(mut client: Client, mut queue: mpsc::UnboundedReceiver<InsertOp>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        match insert_batch(&mut client, &batch).await {
            Ok(outcomes) => {
                for ((_, reply), outcome) in batch.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
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
}

async fn insert_batch(client: &mut Client, batch: &[InsertOp]) -> Result<Vec<Inserted>, InboxError> {
    let transaction = client.transaction().await?;
    let statement = transaction
        .prepare(
            "INSERT INTO deliveries (webhook_id, event_type, webhook_timestamp, body, authenticated, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (webhook_id) DO NOTHING",
        )
        .await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for (d, _) in batch {
        let changed = transaction
            .execute(
                &statement,
                &[
                    &d.webhook_id,
                    &d.event_type,
                    &d.webhook_timestamp,
                    &d.body,
                    &d.authenticated,
                    &d.received_at,
                ],
            )
            .await?;
        outcomes.push(if changed == 1 { Inserted::New } else { Inserted::Duplicate });
    }
    transaction.commit().await?;
    Ok(outcomes)
}
