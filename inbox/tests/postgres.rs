//! The PostgreSQL inbox against a real server: `DATABASE_URL`, as
//! `scripts/postgres.sh` prints it. Without a server these tests say they were
//! skipped and why; with `REQUIRE_POSTGRES=1` (set by CI) that is a failure.
//! Each test works in its own schema.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::*;
use webhook_signature_inbox::{Inbox, InboxError, Inserted, PostgresOptions, Retry};

#[path = "support/postgres.rs"]
mod postgres_schema;

#[path = "support/freeze.rs"]
mod freeze;

use postgres_schema::database;

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn follows_the_rules() {
    let Some(url) = database("rules").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    behaves_like_an_inbox(&inbox).await;
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn concurrent_inserts() {
    let Some(url) = database("concurrent").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    concurrent_inserts_share_commits(&inbox).await;
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn instances_never_claim_the_same_row() {
    let Some(url) = database("skip_locked").await else { return };
    // Two instances migrating at once, then claiming concurrently.
    let (a, b) = tokio::join!(Inbox::connect_postgres(&url), Inbox::connect_postgres(&url));
    let (a, b) = (a.unwrap(), b.unwrap());
    for i in 0..300 {
        a.insert(delivery(&format!("r{i}"), T0 + i)).await.unwrap();
    }
    let lease = Duration::from_secs(60);
    let mut seen = HashSet::new();
    loop {
        let (from_a, from_b) =
            tokio::join!(a.claim("a", lease, T0 + 300, 7), b.claim("b", lease, T0 + 300, 7));
        let (from_a, from_b) = (from_a.unwrap(), from_b.unwrap());
        if from_a.is_empty() && from_b.is_empty() {
            break;
        }
        for row in from_a.iter().chain(&from_b) {
            assert!(seen.insert(row.webhook_id.clone()), "{} claimed twice", row.webhook_id);
        }
    }
    assert_eq!(seen.len(), 300);
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_slower_than_its_lease_runs_once() {
    let Some(url) = database("slow_handler").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    slow_handlers_never_run_twice(&inbox).await;
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn a_worker_handles_rows_concurrently_and_stops_cleanly() {
    let Some(url) = database("loops").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    concurrent_loops_share_the_work(&inbox).await;
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn a_worker_counts_its_outcomes() {
    let Some(url) = database("counted").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    worker_counts_its_outcomes(&inbox).await;
}

/// The test CA that `scripts/postgres.sh` made, from `DATABASE_SSLROOTCERT`
/// (required in CI, as the server is).
fn test_ca() -> Option<String> {
    let ca = std::env::var("DATABASE_SSLROOTCERT").ok();
    let required = std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    assert!(ca.is_some() || !required, "REQUIRE_POSTGRES=1 but DATABASE_SSLROOTCERT is not set");
    if ca.is_none() {
        eprintln!("skipped: DATABASE_SSLROOTCERT is not set (scripts/postgres.sh makes the test CA)");
    }
    ca
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn tls_verify_full_against_the_test_ca() {
    let Some(url) = database("tls").await else { return };
    let Some(ca) = test_ca() else { return };
    let inbox =
        Inbox::connect_postgres(&format!("{url}&sslmode=verify-full&sslrootcert={ca}")).await.unwrap();
    assert_eq!(inbox.insert(delivery("tls", T0)).await.unwrap(), webhook_signature_inbox::Inserted::New);
    let required = Inbox::connect_postgres(&format!("{url}&sslmode=require")).await.unwrap();
    assert!(required.ping().await.is_ok());
    // Another root than the server's CA: the certificate does not chain, so no connection.
    let wrong_root = std::path::Path::new(&ca).with_file_name("server.crt");
    let refused =
        Inbox::connect_postgres(&format!("{url}&sslmode=verify-full&sslrootcert={}", wrong_root.display()))
            .await;
    assert!(refused.is_err(), "a certificate that does not chain to the root was accepted");
    let refused =
        Inbox::connect_postgres(&format!("{url}&sslmode=verify-ca&sslrootcert={}", wrong_root.display()))
            .await;
    assert!(refused.is_err());
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn pending_rows_are_made_due_now() {
    let Some(url) = database("due_now").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    common::pending_rows_are_made_due_now(&inbox).await;
}

/// 2,500 rows, half dead letters and half in backoff: each set is retried
/// whole, across batches of 1,000 that commit on their own.
#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn a_set_is_retried_in_batches() {
    let Some(url) = database("retry_batches").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(
            "INSERT INTO deliveries (webhook_id, event_type, webhook_timestamp, body, authenticated,
               received_at, attempts, next_attempt_at, failed_at)
             SELECT 'm' || i, 'batch.succeeded', 1795000000, '\\x7b7d', 'signature', 1795000000, 3,
               CASE WHEN i % 2 = 1 THEN 4102444800 END, CASE WHEN i % 2 = 0 THEN 1795000001 END
             FROM generate_series(0, 2499) AS i",
        )
        .await
        .unwrap();
    assert_eq!(inbox.retry(&Retry::AllPending).await.unwrap(), 1_250);
    assert_eq!(inbox.retry(&Retry::AllFailed).await.unwrap(), 1_250);
    assert_eq!(inbox.stats(T0).await.unwrap().pending, 2_500);
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn operator_console_works() {
    let Some(url) = database("console").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    operator_console(&inbox).await;
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn a_stuck_handler_is_cut_off_at_its_timeout() {
    let Some(url) = database("stuck").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    a_stuck_handler_is_cut_off(&inbox).await;
}

/// `url` split around its `host:port`: what comes before, it, and the rest.
fn around_authority(url: &str) -> (&str, &str, &str) {
    let start = url.find('@').map_or_else(|| url.find("://").unwrap() + 3, |at| at + 1);
    let end = start + url[start..].find('/').unwrap();
    (&url[..start], &url[start..end], &url[end..])
}

/// How long the frozen-server test waits for anything.
const PATIENCE: Duration = Duration::from_secs(30);

/// `operation` must fail, and within [`PATIENCE`].
async fn fails_in_time<T: std::fmt::Debug>(
    what: &str,
    operation: impl Future<Output = Result<T, webhook_signature_inbox::InboxError>>,
) {
    match tokio::time::timeout(PATIENCE, operation).await {
        Ok(Err(_)) => {}
        Ok(Ok(value)) => panic!("{what} succeeded while frozen: {value:?}"),
        Err(_) => panic!("{what} did not fail within {PATIENCE:?}"),
    }
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_answering_is_an_error_in_bounded_time_then_heals() {
    let Some(url) = database("frozen").await else { return };
    let (before, server, after) = around_authority(&url);
    let proxy = freeze::FreezableProxy::start(server.to_owned()).await;
    let proxied = format!("{before}{}{after}", proxy.addr);
    let options = PostgresOptions::default().with_statement_timeout(Duration::from_millis(500));
    let inbox = Inbox::connect_postgres_with(&proxied, &options).await.unwrap();
    assert_eq!(inbox.insert(delivery("before", T0)).await.unwrap(), Inserted::New);

    // No reset, no answer: each operation fails within its bounds (the
    // statement timeout, then the pool's 5 s to connect afresh), never
    // waiting for TCP to give up.
    proxy.freeze();
    let started = Instant::now();
    fails_in_time("the insert (a sender would get 503)", inbox.insert(delivery("during", T0))).await;
    fails_in_time("the claim", inbox.claim("w", Duration::from_secs(60), T0, 1)).await;
    fails_in_time("the operator's read", inbox.stats(T0)).await;
    assert!(started.elapsed() < PATIENCE, "took {:?}", started.elapsed());

    // Answering again: the same inbox serves, without a restart.
    proxy.thaw();
    let started = Instant::now();
    while let Err(error) = inbox.insert(delivery("after", T0)).await {
        assert!(started.elapsed() < PATIENCE, "never healed: {error}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The insert sent while frozen may have reached the server on the thaw:
    // stored at most once either way, and a sender's retry is a duplicate.
    let stats = inbox.stats(T0).await.unwrap();
    assert!((2..=3).contains(&stats.pending), "{stats:?}");
    assert_ne!(inbox.insert(delivery("before", T0)).await.unwrap(), Inserted::New);
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn a_write_the_server_refuses_fails_alone_not_its_batch() {
    let Some(url) = database("poison").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    // PostgreSQL's text cannot hold NUL: this row is refused, whatever the batch.
    let mut poison = delivery("poison", T0);
    poison.event_type = "batch.\0".to_owned();
    // On this test's single thread every insert is queued before the writer
    // runs, so all share one batch.
    let goods = (0..8).map(|i| inbox.insert(delivery(&format!("good{i}"), T0)));
    let (refused, stored) = tokio::join!(inbox.insert(poison), futures_util::future::join_all(goods));
    assert!(refused.is_err());
    for (i, outcome) in stored.into_iter().enumerate() {
        assert_eq!(outcome.unwrap(), Inserted::New, "good{i} failed with the refused row");
    }
    assert_eq!(inbox.stats(T0).await.unwrap().pending, 8);
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn retention_deletes_in_batches_of_a_thousand() {
    let Some(url) = database("batches").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    retention_deletes_in_batches(&inbox).await;
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn replays_are_duplicates_under_any_id() {
    let Some(url) = database("replays").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    replays_are_duplicates(&inbox).await;
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn a_dead_worker_costs_an_attempt_and_the_last_one_is_rescued() {
    let Some(url) = database("rescue").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    dead_workers_cost_an_attempt(&inbox).await;
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_costs_only_its_row() {
    let Some(url) = database("panic").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    common::a_panicking_handler_costs_only_its_row(&inbox).await;
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_loses_its_lease_is_cancelled() {
    let Some(url) = database("lost").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    common::a_handler_that_loses_its_lease_is_cancelled(&inbox).await;
}

/// While the server is frozen, the write queue fills to its bound and every
/// further delivery is refused at once (503 with Retry-After), instead of
/// queueing bodies without a bound until the server answers.
#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_at_once_while_the_server_is_frozen() {
    let Some(url) = database("queue").await else { return };
    let (before, server, after) = around_authority(&url);
    let proxy = freeze::FreezableProxy::start(server.to_owned()).await;
    let proxied = format!("{before}{}{after}", proxy.addr);
    let options =
        PostgresOptions::default().with_statement_timeout(Duration::from_secs(5)).with_queue_bound(4);
    let inbox = Inbox::connect_postgres_with(&proxied, &options).await.unwrap();
    assert_eq!(inbox.insert(delivery("before", T0)).await.unwrap(), Inserted::New);
    proxy.freeze();
    let writes = fill_the_queue(&inbox, 4).await;
    let started = Instant::now();
    let refused = inbox.insert(delivery("over", T0)).await;
    assert_eq!(refused, Err(webhook_signature_inbox::InboxError::Overloaded));
    assert!(started.elapsed() < Duration::from_secs(1), "refused at once: {:?}", started.elapsed());
    writes.iter().for_each(|write| write.abort());
    proxy.thaw();
}

/// A statement that outlives the statement timeout is stopped by the server
/// itself (its `statement_timeout`), not only abandoned by the client: no
/// query of the inbox is left running, or waiting for a lock, afterwards.
#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_past_its_timeout_is_cancelled_on_the_server() {
    let Some(url) = database("cancel").await else { return };
    let options = PostgresOptions::default().with_statement_timeout(Duration::from_secs(1));
    let inbox = Inbox::connect_postgres_with(&format!("{url}&application_name=inbox_cancel_test"), &options)
        .await
        .unwrap();
    inbox.insert(delivery("held", T0)).await.unwrap();
    let (locker, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    locker.batch_execute("BEGIN; LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let started = Instant::now();
    let outcome = tokio::time::timeout(PATIENCE, inbox.claim("w", Duration::from_secs(60), T0, 1)).await;
    assert!(outcome.expect("bounded").is_err(), "the claim cannot run while the table is locked");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    // Ask as the server sees it, the lock still held: nothing of ours is waiting.
    let (observer, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let mut waiting = i64::MAX;
    for _ in 0..50 {
        waiting = observer
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name = 'inbox_cancel_test' AND state = 'active'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(waiting, 0, "the timed-out query still runs on the server");
    locker.batch_execute("ROLLBACK").await.unwrap();
}

#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_insert_wakes_an_idle_worker() {
    let Some(url) = database("wake").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    common::an_insert_wakes_an_idle_worker(&inbox).await;
}

/// A server that answers but takes no writes (a standby, or read-only) is
/// not ready: every delivery would be refused.
#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn a_read_only_server_is_not_ready() {
    let Some(url) = database("read_only").await else { return };
    let writable = Inbox::connect_postgres(&url).await.unwrap();
    assert!(writable.ping().await.is_ok());
    let read_only = url.replace("options=", "options=-c%20default_transaction_read_only%3Don%20");
    let inbox = Inbox::connect_postgres(&read_only).await.unwrap();
    let error = inbox.ping().await.unwrap_err();
    assert!(error.to_string().contains("read-only"), "{error}");
}

/// A schema that claims the current version but lacks one of its columns
/// is refused at connect, by name, instead of failing every delivery.
#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn a_schema_that_is_not_its_version_is_refused() {
    let Some(url) = database("mismatch").await else { return };
    drop(Inbox::connect_postgres(&url).await.unwrap());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.batch_execute("ALTER TABLE deliveries DROP COLUMN lease_due_at CASCADE").await.unwrap();
    let error = Inbox::connect_postgres(&url).await.err().unwrap();
    assert!(
        matches!(&error, InboxError::SchemaMismatch(message) if message == r#"column "lease_due_at" does not exist"#),
        "{error}"
    );
}

/// An inbox of the schema's first version is migrated in place: rows keep
/// their data, and are due as they were.
#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
#[tokio::test]
async fn a_version_one_schema_is_migrated() {
    let Some(url) = database("v1").await else { return };
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(
            "CREATE TABLE inbox_schema (version BIGINT NOT NULL); INSERT INTO inbox_schema VALUES (1);
             CREATE TABLE deliveries (
               webhook_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, webhook_timestamp BIGINT NOT NULL,
               body BYTEA NOT NULL, authenticated TEXT NOT NULL, received_at BIGINT NOT NULL,
               attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at BIGINT, claimed_by TEXT,
               claimed_until BIGINT, processed_at BIGINT, failed_at BIGINT, processed_by TEXT);
             INSERT INTO deliveries (webhook_id, event_type, webhook_timestamp, body, authenticated,
               received_at, attempts, next_attempt_at, processed_at, failed_at) VALUES
               ('new', 'batch.succeeded', 1795000000, '\\x7b7d', 'signature', 1795000000, 0, NULL, NULL, NULL),
               ('later', 'batch.succeeded', 1795000002, '\\x7b7d', 'signature', 1795000002, 2, 1795000500, NULL, NULL),
               ('done', 'batch.succeeded', 1795000003, '\\x7b7d', 'signature', 1795000003, 1, NULL, 1795000004, NULL),
               ('dead', 'batch.succeeded', 1795000004, '\\x7b7d', 'signature', 1795000004, 10, 1795000040, NULL, 1795000090);",
        )
        .await
        .unwrap();
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    let lease = Duration::from_secs(60);
    let first = inbox.claim("w", lease, T0 + 100, 10).await.unwrap();
    assert_eq!(first.iter().map(|row| row.webhook_id.as_str()).collect::<Vec<_>>(), ["new"]);
    assert!(inbox.complete(&first[0], "w", T0 + 100).await.unwrap());
    let later = inbox.claim("w", lease, T0 + 500, 10).await.unwrap();
    assert_eq!(
        later.iter().map(|row| (row.webhook_id.as_str(), row.attempts)).collect::<Vec<_>>(),
        [("later", 3)]
    );
    let version: i64 = client.query_one("SELECT version FROM inbox_schema", &[]).await.unwrap().get(0);
    assert_eq!(version, 2);
    assert_eq!(inbox.get("dead").await.unwrap().unwrap().failed_at, Some(1_795_000_090));
}
