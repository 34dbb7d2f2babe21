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
