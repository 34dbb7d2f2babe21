//! The built receiver keeps what it acknowledged: a dead letter outlives the
//! retention pass that runs at start, and a handler that keeps failing is
//! retried on a schedule that spans more than a day before its row becomes a
//! dead letter. Read from the `deliveries` table, as an operator would; the
//! schedule is walked by moving `next_attempt_at` to the present, so the test
//! takes seconds, not a day. Bounded to two minutes.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{deliver, eventually, free_port, receiver, scratch};
use rusqlite::{Connection, OptionalExtension, params};

const DAY: i64 = 86_400;

fn now() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// The row's `(attempts, next_attempt_at, failed_at, claimed_by, last_error)`.
type Progress = (i64, Option<i64>, Option<i64>, Option<String>, Option<String>);

fn progress(db: &Connection, id: &str) -> Option<Progress> {
    db.query_row(
        "SELECT attempts, next_attempt_at, failed_at, claimed_by, last_error FROM deliveries WHERE webhook_id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )
    .optional()
    .unwrap()
}

#[test]
fn dead_letters_are_kept_and_failures_are_retried_for_more_than_a_day() {
    let dir = scratch("retries", "schedule");
    let path = dir.join("inbox.sqlite3");
    // An inbox from an earlier run: a dead letter and a processed row, six days old.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let inbox = webhook_signature_inbox::Inbox::open_sqlite(&path, &Default::default()).unwrap();
        let old = now() - 6 * DAY;
        for id in ["msg_old_dead", "msg_old_done"] {
            let delivery = webhook_signature_inbox::NewDelivery {
                webhook_id: id.to_owned(),
                event_type: "batch.failed".to_owned(),
                webhook_timestamp: old,
                body: b"{}".to_vec(),
                authenticated: "signature".to_owned(),
                received_at: old,
                replay_key: None,
            };
            inbox.insert(delivery).await.unwrap();
        }
    });
    let db = Connection::open(&path).unwrap();
    let old = now() - 6 * DAY;
    db.execute(
        "UPDATE deliveries SET attempts = 36, failed_at = ?1 WHERE webhook_id = 'msg_old_dead'",
        [old],
    )
    .unwrap();
    db.execute(
        "UPDATE deliveries SET attempts = 1, processed_at = ?1 WHERE webhook_id = 'msg_old_done'",
        [old],
    )
    .unwrap();

    // The handler cannot write its log: every call fails.
    let port = free_port();
    let mut child = receiver(port, &dir.join("stderr"))
        .env("GEMINI_RECEIVER_DB", &path)
        .env("GEMINI_RECEIVER_HANDLER_LOG", dir.join("no-such-folder").join("handled.log"))
        .spawn()
        .unwrap();
    let bound = Duration::from_secs(120);
    // The retention pass at start deletes the processed row, and keeps the dead letter.
    eventually("the start's retention pass", bound, || progress(&db, "msg_old_done").is_none().then_some(()));
    let kept = progress(&db, "msg_old_dead").expect("a six-day-old dead letter survives retention");
    assert_eq!((kept.0, kept.2), (36, Some(old)));

    eventually("listening", bound, || TcpStream::connect(("127.0.0.1", port)).ok());
    assert_eq!(deliver(port, "msg_failing"), 204);
    let mut waited = 0;
    let mut seen = 0;
    let failed_at = loop {
        // The next failure recorded: the claim released, attempts one more.
        let (attempts, next, failed_at, _, last_error) = eventually("the next attempt", bound, || {
            progress(&db, "msg_failing").filter(|row| row.0 > seen && row.3.is_none())
        });
        seen = attempts;
        assert!(last_error.unwrap().contains("no-such-folder"), "the failure's reason is kept");
        if let Some(failed_at) = failed_at {
            break failed_at;
        }
        let next = next.unwrap();
        waited += next - now();
        // Time passes: the retry is due now.
        db.execute(
            "UPDATE deliveries SET next_attempt_at = ?1 WHERE webhook_id = 'msg_failing'",
            params![now()],
        )
        .unwrap();
    };
    assert_eq!(seen, 36, "the default attempts");
    assert!(failed_at > 0);
    // Each wait was read after the failure was written: a second or so short of the real one.
    assert!(waited >= DAY, "retried over {waited} s only, less than a day");
    child.kill().unwrap();
    child.wait().unwrap();
}
