//! The operator's requests against PostgreSQL, on pooled connections.

use tokio_postgres::Row as PgRow;

use crate::error::InboxError;
use crate::operator::{
    COLUMNS, Filter, RETRY_BATCH, Retry, Row, State, Stats, purge_condition, retry_change,
};
use crate::postgres::Postgres;

/// Unfinished rows, through the partial index `deliveries_pending`.
const STATS_UNFINISHED: &str = concat!(
    "SELECT count(*) FILTER (WHERE claimed_until IS NULL OR claimed_until < $1), \
     count(*) FILTER (WHERE claimed_until >= $1), min(received_at), min(",
    postgres_due!(),
    ") FILTER (WHERE ",
    postgres_due!(),
    " <= $1) FROM deliveries WHERE processed_at IS NULL AND failed_at IS NULL"
);

/// Finished rows: one pass over the table (rows live 25 hours).
const STATS_FINISHED: &str = "SELECT count(*) FILTER (WHERE processed_at IS NOT NULL), \
    count(*) FILTER (WHERE failed_at IS NOT NULL) FROM deliveries";

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn row(found: &PgRow, with_body: bool) -> Result<Row, InboxError> {
    Ok(Row {
        webhook_id: found.try_get(0)?,
        event_type: found.try_get(1)?,
        webhook_timestamp: found.try_get(2)?,
        received_at: found.try_get(3)?,
        attempts: i64::from(found.try_get::<_, i32>(4)?),
        processed_at: found.try_get(5)?,
        failed_at: found.try_get(6)?,
        claimed_by: found.try_get(7)?,
        claimed_until: found.try_get(8)?,
        next_attempt_at: found.try_get(9)?,
        authenticated: found.try_get(10)?,
        last_error: found.try_get(11)?,
        body: if with_body { Some(found.try_get(12)?) } else { None },
    })
}

impl Postgres {
    pub(crate) async fn stats(&self, now: i64) -> Result<Stats, InboxError> {
        self.operator(self.operator_timeout(), async |client| {
            let unfinished = client.query_one(STATS_UNFINISHED, &[&now]).await?;
            let finished = client.query_one(STATS_FINISHED, &[]).await?;
            Ok(Stats {
                pending: count(unfinished.try_get(0)?),
                processing: count(unfinished.try_get(1)?),
                oldest_pending: unfinished.try_get(2)?,
                oldest_due: unfinished.try_get(3)?,
                processed: count(finished.try_get(0)?),
                failed: count(finished.try_get(1)?),
            })
        })
        .await
    }

    pub(crate) async fn list(&self, filter: &Filter, now: i64) -> Result<Vec<Row>, InboxError> {
        let state = filter.state.map_or_else(|| "TRUE".to_owned(), |state| state.condition("$1"));
        // `$1::bigint IS NOT NULL` binds `now` for the states that do not use it.
        let sql = format!(
            "SELECT {COLUMNS} FROM deliveries WHERE {state} AND ($2::text IS NULL OR event_type = $2) \
             AND $1::bigint IS NOT NULL ORDER BY received_at, webhook_id LIMIT $3"
        );
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        self.operator(self.operator_timeout(), async |client| {
            let rows = client.query(&sql, &[&now, &filter.event_type, &limit]).await?;
            rows.iter().map(|found| row(found, false)).collect()
        })
        .await
    }

    pub(crate) async fn get(&self, id: &str) -> Result<Option<Row>, InboxError> {
        let sql = format!("SELECT {COLUMNS}, body FROM deliveries WHERE webhook_id = $1");
        self.operator(self.operator_timeout(), async |client| {
            client.query_opt(&sql, &[&id]).await?.map(|found| row(&found, true)).transpose()
        })
        .await
    }

    /// One conditional statement: the ids given, or one batch of a set
    /// ([`RETRY_BATCH`] rows; the caller repeats it). A row a claim has
    /// locked is skipped, and the condition is checked again on the row as
    /// it is when its lock is taken.
    pub(crate) async fn retry(&self, which: &Retry) -> Result<u64, InboxError> {
        let (set, condition) = retry_change(which);
        self.operator(self.operator_timeout(), async |client| {
            Ok(match which {
                Retry::Ids(ids) => {
                    let sql =
                        format!("UPDATE deliveries SET {set} WHERE {condition} AND webhook_id = ANY($1)");
                    client.execute(&sql, &[ids]).await?
                }
                _ => {
                    let sql = format!(
                        "UPDATE deliveries SET {set} WHERE {condition} AND webhook_id IN \
                         (SELECT webhook_id FROM deliveries WHERE {condition} \
                          LIMIT {RETRY_BATCH} FOR UPDATE SKIP LOCKED)"
                    );
                    client.execute(&sql, &[]).await?
                }
            })
        })
        .await
    }

    pub(crate) async fn purge_older_than(
        &self,
        cutoff: i64,
        states: &[State],
        dry_run: bool,
    ) -> Result<u64, InboxError> {
        let Some(condition) = purge_condition(states, "$1") else { return Ok(0) };
        // An operator's purge may delete days of rows: the retention bound, not a statement's.
        self.operator(crate::postgres::PURGE_TIMEOUT, async |client| {
            if dry_run {
                let found = client
                    .query_one(&format!("SELECT count(*) FROM deliveries WHERE {condition}"), &[&cutoff])
                    .await?;
                Ok(count(found.try_get(0)?))
            } else {
                Ok(client.execute(&format!("DELETE FROM deliveries WHERE {condition}"), &[&cutoff]).await?)
            }
        })
        .await
    }
}
