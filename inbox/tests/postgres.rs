//! The PostgreSQL inbox against a real server: `DATABASE_URL`, as
//! `scripts/postgres.sh` prints it. Without a server these tests say they were
//! skipped and why; with `REQUIRE_POSTGRES=1` (set by CI) that is a failure.
//! Each test works in its own schema.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use webhook_signature_inbox::Inbox;

#[path = "support/postgres.rs"]
mod postgres_schema;

use postgres_schema::database;

#[tokio::test]
async fn follows_the_rules() {
    let Some(url) = database("rules").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    behaves_like_an_inbox(&inbox).await;
}

#[tokio::test]
async fn concurrent_inserts() {
    let Some(url) = database("concurrent").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    concurrent_inserts_share_commits(&inbox).await;
}

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
        let (from_a, from_b) = tokio::join!(a.claim("a", lease, T0, 7), b.claim("b", lease, T0, 7));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_slower_than_its_lease_runs_once() {
    let Some(url) = database("slow_handler").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    slow_handlers_never_run_twice(&inbox).await;
}

#[tokio::test]
async fn a_worker_handles_rows_concurrently_and_stops_cleanly() {
    let Some(url) = database("loops").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    concurrent_loops_share_the_work(&inbox).await;
}

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

#[tokio::test]
async fn operator_console_works() {
    let Some(url) = database("console").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    operator_console(&inbox).await;
}

#[tokio::test]
async fn a_stuck_handler_is_cut_off_at_its_timeout() {
    let Some(url) = database("stuck").await else { return };
    let inbox = Inbox::connect_postgres(&url).await.unwrap();
    a_stuck_handler_is_cut_off(&inbox).await;
}
