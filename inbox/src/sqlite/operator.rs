//! The operator's requests against SQLite: the reads (stats, list, get) on
//! the inbox's reader connection, the writes (retry, purge) by the writer
//! thread like every other write.

use std::rc::Rc;

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::InboxError;
use crate::operator::{
    COLUMNS, Filter, RETRY_BATCH, Retry, Row, State, Stats, purge_condition, retry_change,
};

pub(crate) enum Request {
    Stats { now: i64 },
    List { filter: Filter, now: i64 },
    Get { id: String },
    Retry(Retry),
    Purge { cutoff: i64, states: Vec<State>, dry_run: bool },
}

pub(crate) enum Answer {
    Stats(Stats),
    Rows(Vec<Row>),
    Row(Option<Row>),
    Count(u64),
}

pub(crate) fn apply(transaction: &Transaction<'_>, request: &Request) -> Result<Answer, InboxError> {
    Ok(match request {
        Request::Stats { now } => Answer::Stats(stats(transaction, *now)?),
        Request::List { filter, now } => Answer::Rows(list(transaction, filter, *now)?),
        Request::Get { id } => Answer::Row(get(transaction, id)?),
        Request::Retry(which) => Answer::Count(retry(transaction, which)?),
        Request::Purge { cutoff, states, dry_run } => {
            Answer::Count(purge(transaction, *cutoff, states, *dry_run)?)
        }
    })
}

fn stats(transaction: &Transaction<'_>, now: i64) -> Result<Stats, InboxError> {
    let (pending, processing, oldest_pending, oldest_due): (i64, i64, Option<i64>, Option<i64>) = transaction
        .prepare_cached(STATS_UNFINISHED)?
        .query_row(params![now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    let (processed, failed): (i64, i64) =
        transaction.prepare_cached(STATS_FINISHED)?.query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(Stats {
        pending: count(pending),
        processing: count(processing),
        processed: count(processed),
        failed: count(failed),
        oldest_pending,
        oldest_due,
    })
}

/// Unfinished rows, through the partial index `deliveries_pending`.
const STATS_UNFINISHED: &str = concat!(
    "SELECT count(*) FILTER (WHERE claimed_until IS NULL OR claimed_until < ?1), \
     count(*) FILTER (WHERE claimed_until >= ?1), min(received_at), min(",
    sqlite_due!(),
    ") FILTER (WHERE ",
    sqlite_due!(),
    " <= ?1) FROM deliveries WHERE processed_at IS NULL AND failed_at IS NULL"
);

/// Finished rows: one pass over the table (rows live 25 hours).
const STATS_FINISHED: &str = "SELECT count(*) FILTER (WHERE processed_at IS NOT NULL), \
    count(*) FILTER (WHERE failed_at IS NOT NULL) FROM deliveries";

fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        webhook_id: row.get(0)?,
        event_type: row.get(1)?,
        webhook_timestamp: row.get(2)?,
        received_at: row.get(3)?,
        attempts: row.get(4)?,
        processed_at: row.get(5)?,
        failed_at: row.get(6)?,
        claimed_by: row.get(7)?,
        claimed_until: row.get(8)?,
        next_attempt_at: row.get(9)?,
        authenticated: row.get(10)?,
        last_error: row.get(11)?,
        body: None,
    })
}

fn list(transaction: &Transaction<'_>, filter: &Filter, now: i64) -> Result<Vec<Row>, InboxError> {
    let state = filter.state.map_or_else(|| "1".to_owned(), |state| state.condition("?1"));
    let sql = format!(
        // `?1 = ?1` binds `now` for the states that do not use it.
        "SELECT {COLUMNS} FROM deliveries WHERE {state} AND (?2 IS NULL OR event_type = ?2) \
         AND ?1 = ?1 ORDER BY received_at, webhook_id LIMIT ?3"
    );
    let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
    let mut statement = transaction.prepare_cached(&sql)?;
    let rows = statement.query_map(params![now, filter.event_type, limit], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn get(transaction: &Transaction<'_>, id: &str) -> Result<Option<Row>, InboxError> {
    let sql = format!("SELECT {COLUMNS}, body FROM deliveries WHERE webhook_id = ?1");
    let found = transaction
        .prepare_cached(&sql)?
        .query_row(params![id], |found| {
            let mut operator_row = row(found)?;
            operator_row.body = Some(found.get(12)?);
            Ok(operator_row)
        })
        .optional()?;
    Ok(found)
}

/// One conditional statement: the ids given, or one batch of a set
/// ([`RETRY_BATCH`] rows; the caller repeats it).
fn retry(transaction: &Transaction<'_>, which: &Retry) -> Result<u64, InboxError> {
    let (set, condition) = retry_change(which);
    let changed = match which {
        Retry::Ids(ids) => {
            // rusqlite's `rarray`: the ids as one parameter, whatever their number.
            let ids: Vec<Value> = ids.iter().cloned().map(Value::Text).collect();
            transaction.execute(
                &format!("UPDATE deliveries SET {set} WHERE {condition} AND webhook_id IN rarray(?1)"),
                params![Rc::new(ids)],
            )?
        }
        _ => transaction.execute(
            &format!(
                "UPDATE deliveries SET {set} WHERE rowid IN \
                 (SELECT rowid FROM deliveries WHERE {condition} LIMIT {RETRY_BATCH})"
            ),
            [],
        )?,
    };
    Ok(u64::try_from(changed).unwrap_or(u64::MAX))
}

fn purge(
    transaction: &Transaction<'_>,
    cutoff: i64,
    states: &[State],
    dry_run: bool,
) -> Result<u64, InboxError> {
    let Some(condition) = purge_condition(states, "?1") else { return Ok(0) };
    let count = if dry_run {
        let count: i64 = transaction.query_row(
            &format!("SELECT count(*) FROM deliveries WHERE {condition}"),
            params![cutoff],
            |r| r.get(0),
        )?;
        usize::try_from(count).unwrap_or(0)
    } else {
        transaction.execute(&format!("DELETE FROM deliveries WHERE {condition}"), params![cutoff])?
    };
    Ok(u64::try_from(count).unwrap_or(u64::MAX))
}
