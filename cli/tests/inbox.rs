//! `webhook-signature inbox` on both backends: stats, list (table and JSON
//! lines), show with the body, retry of a dead letter that is then
//! processed, purge with and without a dry run, and the exit codes.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use webhook_signature_inbox::{Failed, Inbox, NewDelivery, RetryPolicy, SqliteOptions};

#[path = "../../inbox/tests/support/postgres.rs"]
mod postgres_schema;

fn now() -> i64 {
    webhook_signature_inbox::unix_now()
}

/// Runs `inbox ARGS… --db/--database-url TARGET`, with no inbox variables in the environment.
fn inbox(target: &[&str], args: &[&str]) -> Output {
    Command::new(common::BIN)
        .arg("inbox")
        .args(args)
        .args(target)
        .env_remove("DATABASE_URL")
        .env_remove("GEMINI_RECEIVER_DB")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn delivery(id: &str, event_type: &str, received_at: i64) -> NewDelivery {
    NewDelivery {
        webhook_id: id.to_owned(),
        event_type: event_type.to_owned(),
        webhook_timestamp: received_at,
        body: format!(r#"{{"type":"{event_type}","data":{{"id":"{id}"}}}}"#).into_bytes(),
        authenticated: "signature".to_owned(),
        received_at,
        replay_key: None,
    }
}

/// Five deliveries an hour old: one dead letter, one processed, three pending.
async fn populate(inbox: &Inbox) {
    let inbox = inbox.clone().with_retry_policy(RetryPolicy::new(10, Duration::from_secs(3600)));
    let old = now() - 3600;
    // The dead letter first: it fails until its attempts run out.
    inbox.insert(delivery("msg_dead", "batch.succeeded", old)).await.unwrap();
    let lease = Duration::from_secs(60);
    let mut at = now();
    loop {
        let claimed = inbox.claim("w", lease, at, 1).await.unwrap();
        assert_eq!(claimed[0].webhook_id, "msg_dead");
        match inbox.fail(&claimed[0], "downstream answered 502", at).await.unwrap() {
            Failed::Retry { next_attempt_at } => at = next_attempt_at,
            Failed::DeadLetter => break,
            Failed::LeaseLost => panic!("lease lost"),
        }
    }
    for (i, id) in ["msg_done", "msg_a", "msg_b", "msg_c"].into_iter().enumerate() {
        let kind = if id == "msg_c" { "video.generated" } else { "batch.succeeded" };
        inbox.insert(delivery(id, kind, old + 1 + i as i64)).await.unwrap();
    }
    let done = inbox.claim("w", lease, now(), 1).await.unwrap();
    assert_eq!(done[0].webhook_id, "msg_done");
    assert!(inbox.complete(&done[0], "w", now()).await.unwrap());
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn console(target: &[&str], serving: &Inbox) {
    let stats = inbox(target, &["stats"]);
    assert!(stats.status.success(), "{}", text(&stats.stderr));
    let out = text(&stats.stdout);
    for expected in
        ["pending     3", "processing  0", "processed   1", "failed      1", "dead letter: msg_dead"]
    {
        assert!(out.contains(expected), "{expected:?} in:\n{out}");
    }

    let list = inbox(target, &["list", "--json"]);
    assert!(list.status.success());
    let rows: Vec<serde_json::Value> =
        text(&list.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let ids: Vec<&str> = rows.iter().map(|row| row["webhook_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["msg_dead", "msg_done", "msg_a", "msg_b", "msg_c"]);
    for field in ["event_type", "webhook_timestamp", "received_at", "attempts", "processed_at", "failed_at"] {
        assert!(rows[0].get(field).is_some(), "{field}");
    }
    let failed = inbox(target, &["list", "--status", "failed"]);
    let failed = text(&failed.stdout);
    assert!(failed.starts_with("msg_dead\tfailed\tbatch.succeeded\tattempts=10"), "{failed}");
    assert!(failed.trim_end().ends_with("\tlast_error=downstream answered 502"), "{failed}");
    assert_eq!(rows[0]["last_error"], "downstream answered 502");
    let videos = inbox(target, &["list", "--event-type", "video.generated", "--limit", "5"]);
    assert_eq!(text(&videos.stdout).lines().count(), 1);
    assert_eq!(inbox(target, &["list", "--event-type", "nothing"]).status.code(), Some(1), "nothing matched");

    let show = inbox(target, &["show", "msg_a", "--body"]);
    assert!(show.status.success());
    assert!(text(&show.stdout).ends_with(r#"{"type":"batch.succeeded","data":{"id":"msg_a"}}"#));
    assert_eq!(inbox(target, &["show", "msg_missing"]).status.code(), Some(1));

    // Retry: a pending row is left alone (exit 1); the dead letter goes back and is processed.
    assert_eq!(inbox(target, &["retry", "msg_a"]).status.code(), Some(1));
    let retry = inbox(target, &["retry", "msg_dead"]);
    assert!(retry.status.success(), "{}", text(&retry.stderr));
    let claimed = serving.claim("w2", Duration::from_secs(60), now(), 1).await.unwrap();
    assert_eq!((claimed[0].webhook_id.as_str(), claimed[0].attempts), ("msg_dead", 1));
    assert!(serving.complete(&claimed[0], "w2", now()).await.unwrap());
    assert_eq!(inbox(target, &["retry", "--all-failed"]).status.code(), Some(1), "no dead letter left");

    // Retry --all-pending: a row waiting out its backoff is due now, its attempts kept.
    let failing = serving.claim("w2", Duration::from_secs(60), now(), 1).await.unwrap();
    assert_eq!(failing[0].webhook_id, "msg_a");
    assert!(matches!(serving.fail(&failing[0], "down", now()).await.unwrap(), Failed::Retry { .. }));
    let due = inbox(target, &["retry", "--all-pending"]);
    assert!(text(&due.stdout).starts_with("1 pending row(s) in backoff due now"), "{}", text(&due.stdout));
    let row = inbox(target, &["show", "msg_a"]);
    assert!(text(&row.stdout).contains(r#""next_attempt_at": null"#), "{}", text(&row.stdout));
    assert_eq!(inbox(target, &["retry", "--all-pending"]).status.code(), Some(1), "none left in backoff");
    assert_eq!(inbox(target, &["retry", "--all-pending", "msg_a"]).status.code(), Some(2), "ids or a set");

    // Purge: a dry run deletes nothing; then the two processed rows go; pending ones stay.
    let dry = inbox(target, &["purge", "--older-than", "30m", "--dry-run"]);
    assert!(text(&dry.stdout).starts_with("would delete 2 row(s)"), "{}", text(&dry.stdout));
    assert_eq!(inbox(target, &["list"]).stdout.iter().filter(|b| **b == b'\n').count(), 5);
    assert_eq!(inbox(target, &["purge", "--older-than", "2h"]).status.code(), Some(1), "nothing that old");
    let purge = inbox(target, &["purge", "--older-than", "30m", "--status", "processed"]);
    assert!(text(&purge.stdout).starts_with("deleted 2 row(s)"));
    assert_eq!(text(&inbox(target, &["list"]).stdout).lines().count(), 3);

    // Usage errors: exit 2.
    assert_eq!(inbox(target, &["purge", "--older-than", "soon"]).status.code(), Some(2));
    assert_eq!(inbox(target, &["list", "--status", "lost"]).status.code(), Some(2));
}

#[tokio::test]
async fn console_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("cli-inbox-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("inbox.sqlite3");
    // Populated and held by a "receiver", as in production: the console attaches beside it.
    let serving = Inbox::open_sqlite(&path, &SqliteOptions::default()).unwrap();
    populate(&serving).await;
    let path = path.display().to_string();
    console(&["--db", &path], &serving).await;
    // No inbox named at all: a usage error.
    assert_eq!(inbox(&[], &["stats"]).status.code(), Some(2));
    drop(serving);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
async fn console_on_postgres() {
    let Some(url) = postgres_schema::database("cli_console").await else { return };
    let serving = Inbox::connect_postgres(&url).await.unwrap();
    populate(&serving).await;
    console(&["--database-url", &url], &serving).await;
}
