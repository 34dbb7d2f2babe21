//! Regression tests from a review of the inbox's queue semantics. Each test
//! names what it checks; the PostgreSQL ones skip without `DATABASE_URL`, as
//! in `tests/postgres.rs`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use webhook_signature_inbox::{
    Claimed, Failed, Inbox, PostgresOptions, Retention, RetryPolicy, SqliteOptions, Worker,
};

#[path = "support/postgres.rs"]
mod postgres_schema;

#[path = "support/freeze.rs"]
mod freeze;

fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("inbox-review-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("inbox.sqlite3")
}

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// An operator who keeps dead letters for a day expects a day to look at
/// each one. A dead letter is made at the end of its retries (25 h after it
/// was received, by default), so a retention counted from `received_at`
/// deletes it at the next retention pass, a minute after it died.
async fn a_dead_letter_is_kept_for_its_retention_after_it_died(inbox: &Inbox) {
    let inbox = inbox.clone().with_retry_policy(RetryPolicy::new(1, Duration::from_secs(60))).with_retention(
        Retention { dead_letters: Some(Duration::from_secs(DAY as u64)), ..Retention::default() },
    );
    inbox.insert(delivery("late-dead", T0)).await.unwrap();
    // Its last attempt fails 25 h after it was received: a dead letter then.
    let died = T0 + 25 * HOUR;
    let claimed = inbox.claim("w", Duration::from_secs(60), died, 1).await.unwrap();
    assert_eq!(inbox.fail(&claimed[0], "downstream 502", died).await.unwrap(), Failed::DeadLetter);
    // One minute later, the retention pass.
    inbox.purge(died + 60).await.unwrap();
    assert!(
        inbox.get("late-dead").await.unwrap().is_some(),
        "a dead letter kept for one day was deleted one minute after it became one"
    );
}

#[tokio::test]
async fn sqlite_dead_letter_retention_counts_from_failed_at() {
    let inbox = Inbox::open_sqlite(temp_db("dead-retention"), &SqliteOptions::default()).unwrap();
    a_dead_letter_is_kept_for_its_retention_after_it_died(&inbox).await;
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn postgres_dead_letter_retention_counts_from_failed_at() {
    let Some(url) = postgres_schema::database("review_dead_retention").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    a_dead_letter_is_kept_for_its_retention_after_it_died(&inbox).await;
}

/// The server's clock, Unix seconds.
async fn server_now(url: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.query_one("SELECT floor(extract(epoch FROM now()))::bigint", &[]).await.unwrap().get(0)
}

/// With PostgreSQL, due times are counted on the server's clock so that
/// instances whose clocks disagree still agree. A new row's `due_at` falls
/// back on `received_at`, which the receiving instance stamps with its own
/// clock: a row received by an instance whose clock runs ten minutes ahead
/// is not claimed for ten minutes.
#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn postgres_a_new_row_is_due_at_once_whatever_the_receiving_clock() {
    let Some(url) = postgres_schema::database("review_skew").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    let ahead = server_now(&url).await + 600;
    inbox.insert(delivery("from-a-fast-clock", ahead)).await.unwrap();
    let claimed = inbox.claim("w", Duration::from_secs(60), None, 1).await.unwrap();
    assert_eq!(
        claimed.len(),
        1,
        "a committed row waits for the receiving instance's clock, not the server's"
    );
}

/// The claim on PostgreSQL reads the partial index `deliveries_due` (the
/// SQLite plan is checked in `tests/sqlite.rs`; PostgreSQL's was not).
#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn postgres_the_claim_reads_the_due_index() {
    let Some(url) = postgres_schema::database("review_plan").await else { return };
    drop(Inbox::connect_postgres(&url).await.unwrap());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(
            "INSERT INTO deliveries (webhook_id, event_type, webhook_timestamp, body, authenticated, \
               received_at, attempts, next_attempt_at) \
             SELECT 'w' || i, 'batch.succeeded', 1795000000, '\\x7b7d', 'signature', 1795000000, 3, 1795086400 \
             FROM generate_series(1, 20000) AS i; ANALYZE deliveries",
        )
        .await
        .unwrap();
    let plan: Vec<String> = client
        .query(
            concat!(
                "EXPLAIN SELECT webhook_id FROM deliveries WHERE processed_at IS NULL AND failed_at IS NULL ",
                "AND GREATEST(COALESCE(next_attempt_at, received_at), COALESCE(lease_due_at, received_at)) ",
                "<= 1795000100 AND attempts < 36 ORDER BY ",
                "GREATEST(COALESCE(next_attempt_at, received_at), COALESCE(lease_due_at, received_at)) ",
                "LIMIT 1 FOR UPDATE SKIP LOCKED"
            ),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(plan.iter().any(|line| line.contains("deliveries_due")), "{plan:#?}");
}

/// A version-1 PostgreSQL table (as the first release left it) is migrated
/// in place: every row keeps its state, due rows are claimed, dead letters
/// and processed rows are not.
#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn postgres_a_version_one_table_is_migrated() {
    let Some(url) = postgres_schema::database("review_v1").await else { return };
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let v1 = include_str!("support/schema_v1.sql")
        .replace("INTEGER NOT NULL", "BIGINT NOT NULL")
        .replace("body              BLOB", "body              BYTEA")
        .replace("X'7B7D'", "'\\x7b7d'")
        .replace("PRAGMA user_version = 1;", "")
        .replace(
            "attempts          BIGINT NOT NULL DEFAULT 0",
            "attempts          INTEGER NOT NULL DEFAULT 0",
        )
        .replace("INTEGER,", "BIGINT,");
    client.batch_execute(&v1).await.unwrap();
    client
        .batch_execute(
            "CREATE TABLE inbox_schema (version BIGINT NOT NULL); INSERT INTO inbox_schema VALUES (1)",
        )
        .await
        .unwrap();
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    let claimed = inbox.claim("w", Duration::from_secs(60), T0 + 100, 10).await.unwrap();
    let mut ids: Vec<_> = claimed.iter().map(|row| row.webhook_id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["due", "new"]);
    let dead = inbox.get("dead").await.unwrap().unwrap();
    assert_eq!((dead.attempts, dead.failed_at), (10, Some(1_795_000_090)));
    let done = inbox.get("done").await.unwrap().unwrap();
    assert_eq!(done.processed_at, Some(1_795_000_004));
    let version: i64 = client.query_one("SELECT version FROM inbox_schema", &[]).await.unwrap().get(0);
    assert_eq!(version, 2);
}

/// `url` split around its `host:port`.
fn around_authority(url: &str) -> (&str, &str, &str) {
    let start = url.find('@').map_or_else(|| url.find("://").unwrap() + 3, |at| at + 1);
    let end = start + url[start..].find('/').unwrap();
    (&url[..start], &url[start..end], &url[end..])
}

/// Instance A loses the database (its connections freeze, as behind a
/// partition) while its handler runs; instance B still reaches it. A's
/// renewals fail; the lease must be given up, and the handler cancelled,
/// before B can claim the row. A renewal call is not bounded by what is left
/// of the lease (a checkout that opens a connection waits up to 5 s more
/// than the statement timeout), so A's handler still runs when B's starts:
/// the row runs twice at once. Bounded to about 20 s.
#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_handler_whose_renewals_hang_is_cancelled_before_another_claim() {
    let Some(url) = postgres_schema::database("review_renew_hang").await else { return };
    let (before, server, after) = around_authority(&url);
    let proxy = freeze::FreezableProxy::start(server.to_owned()).await;
    let proxied = format!("{before}{}{after}", proxy.addr);
    let options = PostgresOptions::default().with_statement_timeout(Duration::from_secs(1));
    let a = Inbox::connect_postgres_with(&proxied, &options).await.unwrap();
    let b = Inbox::connect_postgres(&url).await.unwrap();
    b.insert(delivery("contended", T0)).await.unwrap();

    let cancelled: Arc<Mutex<Option<Instant>>> = Arc::default();
    let (started, mut running) = tokio::sync::watch::channel(false);
    let on_cancel = cancelled.clone();
    let handler = move |_row: Claimed| {
        let (on_cancel, started) = (on_cancel.clone(), started.clone());
        async move {
            let _cancel = OnDrop(Some(move || *on_cancel.lock().unwrap() = Some(Instant::now())));
            started.send(true).unwrap();
            std::future::pending::<()>().await;
            Ok(())
        }
    };
    let worker = Worker::new(a.clone(), "a").with_lease(Duration::from_secs(6));
    let run = tokio::spawn(async move { worker.run_once(handler).await });
    tokio::time::timeout(Duration::from_secs(10), running.wait_for(|started| *started))
        .await
        .unwrap()
        .unwrap();
    proxy.freeze();
    let mut b_claimed = None;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if !b.claim("b", Duration::from_secs(60), None, 1).await.unwrap().is_empty() {
            b_claimed = Some(Instant::now());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let b_claimed = b_claimed.expect("B claims the row once A's lease and backoff are over");
    let _ = tokio::time::timeout(Duration::from_secs(20), run).await;
    proxy.thaw();
    let cancelled = cancelled.lock().unwrap().expect("A's handler was cancelled");
    assert!(
        cancelled <= b_claimed,
        "A's handler ran {:?} after B claimed the row: twice at once",
        cancelled - b_claimed
    );
}

/// Handlers that block their threads (sync I/O, CPU work), as many as the
/// runtime has worker threads (the receiver runs 8 handlers on a 2-core
/// machine's 2 threads): the renewals, which run as tasks on the same
/// threads, stall, the leases run out, and another claim takes the rows
/// while their handlers still run. Bounded to about 12 s. The test's own
/// waits use the std clock: tokio's timers need the blocked worker threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_blocking_handlers_do_not_stall_their_renewals() {
    let inbox = Inbox::open_sqlite(temp_db("blocking"), &SqliteOptions::default()).unwrap();
    let now = webhook_signature_inbox::unix_now();
    for i in 0..2 {
        inbox.insert(delivery(&format!("blocking{i}"), now)).await.unwrap();
    }
    let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = started.clone();
    let handler = move |_row: Claimed| {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::thread::sleep(Duration::from_secs(9)); // blocks its worker thread
            Ok(())
        }
    };
    let worker =
        Worker::new(inbox.clone(), "blocking").with_lease(Duration::from_secs(3)).with_concurrency(2);
    let run = tokio::spawn(async move { worker.run(handler).await });
    let begun = Instant::now();
    while started.load(std::sync::atomic::Ordering::SeqCst) < 2 && begun.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(started.load(std::sync::atomic::Ordering::SeqCst), 2, "both handlers started");
    // While both handlers still run (until 9 s), nobody else may claim their rows.
    let mut stolen = 0;
    while begun.elapsed() < Duration::from_secs(8) && stolen == 0 {
        std::thread::sleep(Duration::from_millis(200));
        let now = webhook_signature_inbox::unix_now();
        stolen = inbox.claim("thief", Duration::from_secs(60), now, 2).await.unwrap().len();
    }
    run.abort();
    assert_eq!(
        stolen, 0,
        "rows claimed again while their blocking handlers ran: their leases were not renewed"
    );
}

/// `next_attempt_at` is a contract column: when a failed row is tried again
/// (NULL for a row that never failed). A claim now writes it on every
/// attempt (the lease's end plus a backoff, for the case the worker dies),
/// and completion leaves it: a row processed at its first attempt reads as
/// one with a retry scheduled.
#[tokio::test]
async fn sqlite_a_row_processed_at_once_has_no_retry_scheduled() {
    let inbox = Inbox::open_sqlite(temp_db("next-attempt"), &SqliteOptions::default()).unwrap();
    inbox.insert(delivery("fine", T0)).await.unwrap();
    let claimed = inbox.claim("w", Duration::from_secs(60), T0, 1).await.unwrap();
    assert!(inbox.complete(&claimed[0], "w", T0 + 1).await.unwrap());
    let row = inbox.get("fine").await.unwrap().unwrap();
    assert_eq!(row.next_attempt_at, None, "processed at its first attempt, yet a retry is scheduled");
}
