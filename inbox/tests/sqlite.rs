//! The SQLite inbox: the shared rules, its file and schema, and the faults
//! that must become 503 (full disk, locked database), never a false "committed".
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use webhook_signature_inbox::{Filter, Inbox, InboxError, Inserted, Retry, SqliteOptions};

/// A fresh directory under the target dir's temp, removed first.
fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("inbox-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("inbox.sqlite3")
}

#[tokio::test]
async fn follows_the_rules() {
    let inbox = Inbox::open_sqlite(temp_db("rules"), &SqliteOptions::default()).unwrap();
    behaves_like_an_inbox(&inbox).await;
}

#[tokio::test]
async fn concurrent_inserts() {
    let inbox = Inbox::open_sqlite(temp_db("concurrent"), &SqliteOptions::default()).unwrap();
    concurrent_inserts_share_commits(&inbox).await;
}

#[tokio::test]
async fn missing_file_is_created_with_the_schema() {
    let path = temp_db("schema");
    assert!(!path.exists());
    let inbox = Inbox::open_sqlite(&path, &SqliteOptions::default()).unwrap();
    inbox.insert(delivery("x", T0)).await.unwrap();
    let reader = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = reader.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    let mode: String = reader.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!((version, mode.as_str()), (2, "wal"));
    // Committed: visible to another connection, with the contract's columns.
    let row: (String, String, i64, Vec<u8>, String, i64, i64) = reader
        .query_row(
            "SELECT webhook_id, event_type, webhook_timestamp, body, authenticated, received_at, attempts FROM deliveries",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        ("x".into(), "batch.succeeded".into(), T0, delivery("x", T0).body, "signature".into(), T0, 0)
    );
    let nulls: i64 = reader
        .query_row(
            "SELECT count(*) FROM deliveries WHERE next_attempt_at IS NULL AND claimed_by IS NULL \
             AND claimed_until IS NULL AND processed_at IS NULL AND failed_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(nulls, 1);
    // Reopening keeps the data and does not migrate again.
    drop(inbox);
    let again = Inbox::open_sqlite(&path, &SqliteOptions::default()).unwrap();
    assert_eq!(again.insert(delivery("x", T0)).await.unwrap(), Inserted::Duplicate);
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let path = temp_db("newer");
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", 9).unwrap();
    assert_eq!(Inbox::open_sqlite(&path, &SqliteOptions::default()).err(), Some(InboxError::SchemaTooNew(9)));
}

/// A file that claims the current version but lacks one of its columns
/// (edited by hand, or written by an unreleased build) is refused at open,
/// by name, instead of failing every delivery once the receiver is up.
#[tokio::test]
async fn a_schema_that_is_not_its_version_is_refused() {
    let path = temp_db("mismatch");
    drop(Inbox::open_sqlite(&path, &SqliteOptions::default()).unwrap());
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute_batch("DROP INDEX deliveries_due; ALTER TABLE deliveries DROP COLUMN lease_due_at")
        .unwrap();
    drop(connection);
    let error = Inbox::open_sqlite(&path, &SqliteOptions::default()).err().unwrap();
    assert!(
        matches!(&error, InboxError::SchemaMismatch(message) if message == "no such column: lease_due_at"),
        "{error}"
    );
}

#[tokio::test]
async fn a_full_disk_is_an_error_never_a_commit() {
    let path = temp_db("full");
    let options = SqliteOptions { max_page_count: Some(16), ..SqliteOptions::default() };
    let inbox = Inbox::open_sqlite(&path, &options).unwrap();
    let mut big = delivery("big-0", T0);
    big.body = vec![b'x'; 16 * 1024];
    let mut error = None;
    for i in 0..64 {
        big.webhook_id = format!("big-{i}");
        if let Err(e) = inbox.insert(big.clone()).await {
            error = Some((i, e));
            break;
        }
    }
    let (failed_at, error) = error.expect("the 16-page database fills up");
    assert_eq!(error, InboxError::Full);
    // The failed delivery is not in the inbox: its sender got no 2xx and will retry.
    let reader = rusqlite::Connection::open(&path).unwrap();
    let stored: i64 = reader
        .query_row(
            "SELECT count(*) FROM deliveries WHERE webhook_id = ?1",
            [format!("big-{failed_at}")],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_locked_database_is_busy() {
    let path = temp_db("locked");
    let options = SqliteOptions { busy_timeout: Duration::from_millis(100), ..SqliteOptions::default() };
    let inbox = Inbox::open_sqlite(&path, &options).unwrap();
    let locker = rusqlite::Connection::open(&path).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    assert_eq!(inbox.insert(delivery("y", T0)).await.err(), Some(InboxError::Busy));
    locker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(inbox.insert(delivery("y", T0)).await.unwrap(), Inserted::New);
}

/// Counting a day of rows once stalled every commit behind it: the
/// operator's reads run on their own connection, so they answer while the
/// writer waits for a lock held elsewhere, and see only what was committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_reads_do_not_wait_for_the_writer() {
    let path = temp_db("reads");
    let options = SqliteOptions { busy_timeout: Duration::from_secs(60), ..SqliteOptions::default() };
    let inbox = Inbox::open_sqlite(&path, &options).unwrap();
    inbox.insert(delivery("a", T0)).await.unwrap();
    let locker = rusqlite::Connection::open(&path).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let blocked = tokio::spawn({
        let inbox = inbox.clone();
        async move { inbox.insert(delivery("b", T0)).await }
    });
    // The bound only turns a regression into a failure instead of a hang.
    let bound = Duration::from_secs(30);
    let stats = tokio::time::timeout(bound, inbox.stats(T0)).await.expect("stats waited").unwrap();
    assert_eq!(stats.pending, 1);
    let listed = tokio::time::timeout(bound, inbox.list(&Filter::default(), T0)).await.expect("list waited");
    assert_eq!(listed.unwrap().len(), 1);
    let got = tokio::time::timeout(bound, inbox.get("a")).await.expect("get waited").unwrap();
    assert_eq!(got.unwrap().body, Some(delivery("a", T0).body));
    assert!(!blocked.is_finished(), "the insert cannot commit while the lock is held");
    locker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(blocked.await.unwrap().unwrap(), Inserted::New);
    assert_eq!(inbox.stats(T0).await.unwrap().pending, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_slower_than_its_lease_runs_once() {
    let inbox = Inbox::open_sqlite(temp_db("slow-handler"), &SqliteOptions::default()).unwrap();
    slow_handlers_never_run_twice(&inbox).await;
}

#[tokio::test]
async fn a_worker_handles_rows_concurrently_and_stops_cleanly() {
    let inbox = Inbox::open_sqlite(temp_db("loops"), &SqliteOptions::default()).unwrap();
    concurrent_loops_share_the_work(&inbox).await;
}

#[tokio::test]
async fn a_worker_counts_its_outcomes() {
    let inbox = Inbox::open_sqlite(temp_db("counted"), &SqliteOptions::default()).unwrap();
    worker_counts_its_outcomes(&inbox).await;
}

#[tokio::test]
async fn one_process_per_file_and_a_restart_releases_old_claims() {
    let path = temp_db("restart");
    let inbox = Inbox::open_sqlite(&path, &SqliteOptions::default()).unwrap();
    let impatient = SqliteOptions { busy_timeout: Duration::from_millis(100), ..SqliteOptions::default() };
    assert_eq!(Inbox::open_sqlite(&path, &impatient).err(), Some(InboxError::Locked));
    inbox.insert(delivery("a", T0)).await.unwrap();
    let lease = Duration::from_secs(3600);
    assert_eq!(inbox.claim("dead-process", lease, T0, 1).await.unwrap().len(), 1);
    drop(inbox);
    // The writer thread lets go of the lock once the last handle is gone; the
    // open waits for it (up to the busy timeout).
    let inbox = Inbox::open_sqlite(&path, &SqliteOptions::default()).unwrap();
    // Long before the dead process's lease expires, its claim is gone: the
    // row waits only the backoff of the attempt that died (2 s), counted
    // from the restart.
    let restarted = webhook_signature_inbox::unix_now();
    assert!(inbox.claim("new-process", lease, restarted + 1, 1).await.unwrap().is_empty());
    let claimed = inbox.claim("new-process", lease, restarted + 2, 1).await.unwrap();
    assert_eq!((claimed.len(), claimed[0].attempts), (1, 2));
}

/// A schema written by the first version (no `due_at`, no claim tokens) is
/// migrated in place: its rows keep their data and states, and are due as
/// they were.
#[tokio::test]
async fn a_version_one_file_is_migrated() {
    let path = temp_db("v1");
    {
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(include_str!("support/schema_v1.sql")).unwrap();
    }
    let inbox = Inbox::open_sqlite(&path, &SqliteOptions::default()).unwrap();
    let claimed = inbox.claim("w", Duration::from_secs(60), T0 + 100, 10).await.unwrap();
    let mut ids: Vec<_> = claimed.iter().map(|row| row.webhook_id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["due", "new"], "not the processed, dead or backing-off rows");
    let later = inbox.claim("w", Duration::from_secs(60), T0 + 1000, 10).await.unwrap();
    assert!(later.iter().any(|row| row.webhook_id == "later"), "due once its backoff ended");
    let reader = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = reader.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 2);
}

/// The claim reads the partial index on `due_at`: rows waiting in backoff
/// (however many) are never scanned for a due one. Checked on the plan, not
/// on the clock; `benches/claim.rs` measures it.
#[test]
fn the_claim_reads_only_due_rows() {
    let path = temp_db("plan");
    drop(Inbox::open_sqlite(&path, &SqliteOptions::default()).unwrap());
    let connection = rusqlite::Connection::open(&path).unwrap();
    let plan: Vec<String> = connection
        .prepare(
            concat!(
                "EXPLAIN QUERY PLAN SELECT rowid FROM deliveries WHERE processed_at IS NULL AND failed_at IS NULL ",
                "AND max(coalesce(next_attempt_at, received_at), coalesce(lease_due_at, received_at)) <= 5 ",
                "AND attempts < 36 ",
                "ORDER BY max(coalesce(next_attempt_at, received_at), coalesce(lease_due_at, received_at)) LIMIT 1"
            ),
        )
        .unwrap()
        .query_map([], |row| row.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(plan.len(), 1, "{plan:?}");
    assert!(plan[0].starts_with("SEARCH deliveries USING INDEX deliveries_due ("), "{plan:?}");
}

/// A full write queue refuses at once (503 with Retry-After), instead of
/// holding every delivery, body included, while the disk is stuck; a write
/// whose caller gave up is skipped, not committed later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_at_once_and_skips_abandoned_writes() {
    let path = temp_db("queue");
    let options =
        SqliteOptions { busy_timeout: Duration::from_secs(60), queue_bound: 4, ..SqliteOptions::default() };
    let inbox = Inbox::open_sqlite(&path, &options).unwrap();
    let locker = rusqlite::Connection::open(&path).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    // The writer takes a first batch and is stuck on the lock; the queue
    // holds four inserts in all, that batch included; the rest are refused at once.
    let writes = fill_the_queue(&inbox, 4).await;
    assert_eq!(writes.len(), 4, "every insert before the bound was taken");
    let refused = tokio::time::timeout(Duration::from_secs(5), inbox.insert(delivery("over", T0)))
        .await
        .expect("refused at once, not queued");
    assert_eq!(refused, Err(InboxError::Overloaded));
    // Every caller gives up (a commit timeout): the writes still queued are
    // skipped; the batch the writer is in commits once the lock is free.
    writes.iter().for_each(|write| write.abort());
    locker.execute_batch("ROLLBACK").unwrap();
    eventually("every slot given back", || inbox.queue_depth() == 0).await;
    assert_eq!(inbox.insert(delivery("after", T0)).await.unwrap(), Inserted::New);
    // What was stored is the writer's batch: the first inserts, in order;
    // what was still queued is not.
    let stored: Vec<String> =
        inbox.list(&Filter::default(), T0).await.unwrap().into_iter().map(|row| row.webhook_id).collect();
    let batch = stored.iter().filter(|id| id.starts_with('q')).count();
    assert!((1..=4).contains(&batch), "{stored:?}");
    let expected: Vec<String> = (0..batch).map(|i| format!("q{i}")).chain(["after".to_owned()]).collect();
    let mut stored = stored;
    stored.sort_unstable_by_key(|id| (id == "after", id.clone()));
    assert_eq!(stored, expected);
}

#[tokio::test]
async fn a_missing_folder_is_named() {
    let path = temp_db("folder").with_file_name("absent").join("inbox.sqlite3");
    let error = Inbox::open_sqlite(&path, &SqliteOptions::default()).unwrap_err().to_string();
    assert!(error.contains("folder") && error.contains("absent"), "{error}");
    assert!(!error.contains(".lock"), "{error}");
}

#[tokio::test]
async fn retention_deletes_in_batches_of_a_thousand() {
    let inbox = Inbox::open_sqlite(temp_db("batches"), &SqliteOptions::default()).unwrap();
    retention_deletes_in_batches(&inbox).await;
}

#[tokio::test]
async fn replays_are_duplicates_under_any_id() {
    let inbox = Inbox::open_sqlite(temp_db("replays"), &SqliteOptions::default()).unwrap();
    replays_are_duplicates(&inbox).await;
}

#[tokio::test]
async fn a_dead_worker_costs_an_attempt_and_the_last_one_is_rescued() {
    let inbox = Inbox::open_sqlite(temp_db("rescue"), &SqliteOptions::default()).unwrap();
    dead_workers_cost_an_attempt(&inbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_costs_only_its_row() {
    let inbox = Inbox::open_sqlite(temp_db("panic"), &SqliteOptions::default()).unwrap();
    common::a_panicking_handler_costs_only_its_row(&inbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_loses_its_lease_is_cancelled() {
    let inbox = Inbox::open_sqlite(temp_db("lost"), &SqliteOptions::default()).unwrap();
    common::a_handler_that_loses_its_lease_is_cancelled(&inbox).await;
}

#[tokio::test]
async fn pending_rows_are_made_due_now() {
    let inbox = Inbox::open_sqlite(temp_db("due-now"), &SqliteOptions::default()).unwrap();
    common::pending_rows_are_made_due_now(&inbox).await;
}

/// 2,500 rows, half dead letters and half in backoff: each set is retried
/// whole, across batches of 1,000 that commit on their own.
#[tokio::test]
async fn a_set_is_retried_in_batches() {
    let path = temp_db("retry-batches");
    let inbox = Inbox::open_sqlite(&path, &SqliteOptions::default()).unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "INSERT INTO deliveries (webhook_id, event_type, webhook_timestamp, body, authenticated,
               received_at, attempts, next_attempt_at, failed_at)
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2499)
             SELECT 'm' || i, 'batch.succeeded', 1795000000, x'7b7d', 'signature', 1795000000, 3,
               CASE WHEN i % 2 = 1 THEN 4102444800 END, CASE WHEN i % 2 = 0 THEN 1795000001 END FROM n",
        )
        .unwrap();
    assert_eq!(inbox.retry(&Retry::AllPending).await.unwrap(), 1_250);
    assert_eq!(inbox.retry(&Retry::AllFailed).await.unwrap(), 1_250);
    assert_eq!(inbox.stats(T0).await.unwrap().pending, 2_500);
}

#[tokio::test]
async fn operator_console_works() {
    let path = temp_db("console");
    let inbox = Inbox::open_sqlite(&path, &SqliteOptions::default()).unwrap();
    // The console attaches beside the serving process, without its lock.
    let console = Inbox::open_sqlite(&path, &SqliteOptions::attach()).unwrap();
    operator_console(&console).await;
    drop(inbox);
    assert!(
        Inbox::open_sqlite(temp_db("absent").with_file_name("nope.sqlite3"), &SqliteOptions::attach())
            .is_err()
    );
}

#[tokio::test]
async fn a_stuck_handler_is_cut_off_at_its_timeout() {
    let inbox = Inbox::open_sqlite(temp_db("stuck"), &SqliteOptions::default()).unwrap();
    a_stuck_handler_is_cut_off(&inbox).await;
}

/// SQLite 3.51.1 could deadlock when two connections to one file closed at
/// once on two threads (an ABBA between two of its VFS mutexes; rusqlite
/// issue 1860, fixed in 3.51.2): every inbox drop closes its writer's and its
/// reader's. Seen as a hung `webhook-signature inbox list` in CI; with 3.51.1
/// this test hung within its 3,000 drops. Bounded in count and time.
#[test]
fn closing_the_writer_and_the_reader_at_once_never_deadlocks() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        for i in 0..3000 {
            let path = temp_db(&format!("close-{i}"));
            let inbox = Inbox::open_sqlite(&path, &SqliteOptions::default()).unwrap();
            runtime.block_on(async {
                inbox.insert(delivery("x", T0)).await.unwrap();
                inbox.stats(T0).await.unwrap(); // the reader is opened and used
            });
            drop(inbox); // the writer thread closes its connection as this thread closes the reader
            let _ = std::fs::remove_dir_all(path.parent().unwrap());
        }
        let _ = done.send(());
    });
    finished.recv_timeout(Duration::from_secs(120)).expect("two connections closing at once deadlocked");
}

/// `due_at` follows the contract's columns: an operator (or a script) who
/// moves `next_attempt_at` into the past makes a retry due at once.
#[tokio::test]
async fn editing_next_attempt_at_moves_the_retry() {
    let path = temp_db("edited");
    let inbox = Inbox::open_sqlite(&path, &SqliteOptions::default()).unwrap();
    inbox.insert(delivery("x", T0)).await.unwrap();
    let claimed = inbox.claim("w", Duration::from_secs(60), T0, 1).await.unwrap();
    inbox.fail(&claimed[0], "no", T0).await.unwrap();
    assert!(inbox.claim("w", Duration::from_secs(60), T0 + 1, 1).await.unwrap().is_empty());
    let editor = rusqlite::Connection::open(&path).unwrap();
    editor.execute("UPDATE deliveries SET next_attempt_at = ?1", [T0]).unwrap();
    assert_eq!(inbox.claim("w", Duration::from_secs(60), T0 + 1, 1).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_insert_wakes_an_idle_worker() {
    let inbox = Inbox::open_sqlite(temp_db("wake"), &SqliteOptions::default()).unwrap();
    common::an_insert_wakes_an_idle_worker(&inbox).await;
}
