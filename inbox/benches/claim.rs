//! The claim of a due row, with none and with 100,000 rows waiting in
//! backoff: the partial index on `due_at` keeps the second within a small
//! factor of the first. SQLite, one commit per claim (as the worker does).
//! `cargo bench -p webhook-signature-inbox --bench claim`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use webhook_signature_inbox::{Inbox, NewDelivery, SqliteOptions};

const NOW: i64 = 1_795_000_000;

fn delivery(id: &str) -> NewDelivery {
    NewDelivery {
        webhook_id: id.to_owned(),
        event_type: "batch.succeeded".to_owned(),
        webhook_timestamp: NOW,
        body: br#"{"type":"batch.succeeded"}"#.to_vec(),
        authenticated: "signature".to_owned(),
        received_at: NOW,
        replay_key: None,
    }
}

/// A fresh inbox with `waiting` rows in backoff (due in a day).
fn inbox(name: &str, waiting: usize) -> (Inbox, PathBuf) {
    let dir = std::env::temp_dir().join(format!("inbox-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let path = dir.join("inbox.sqlite3");
    drop(Inbox::open_sqlite(&path, &SqliteOptions::default()).expect("the inbox"));
    let mut connection = rusqlite::Connection::open(&path).expect("the file");
    let transaction = connection.transaction().expect("a transaction");
    {
        let mut insert = transaction
            .prepare(
                "INSERT INTO deliveries (webhook_id, event_type, webhook_timestamp, body, authenticated, \
                 received_at, attempts, next_attempt_at) VALUES (?1, 'batch.succeeded', ?2, x'7b7d', \
                 'signature', ?2, 3, ?3)",
            )
            .expect("the insert");
        for i in 0..waiting {
            insert.execute(rusqlite::params![format!("waiting{i}"), NOW - 100, NOW + 86_400]).expect("a row");
        }
    }
    transaction.commit().expect("the commit");
    drop(connection);
    (Inbox::open_sqlite(&path, &SqliteOptions::default()).expect("the inbox"), dir)
}

fn claim(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let mut group = c.benchmark_group("claim_a_due_row");
    group.measurement_time(Duration::from_secs(5)).sample_size(20);
    for (name, waiting) in [("none_waiting", 0), ("100k_in_backoff", 100_000)] {
        let (inbox, dir) = inbox(name, waiting);
        let mut i = 0_u64;
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iterations {
                        i += 1;
                        inbox.insert(delivery(&format!("due{i}"))).await.expect("an insert");
                        let started = Instant::now();
                        let claimed =
                            inbox.claim("bench", Duration::from_secs(60), NOW, 1).await.expect("a claim");
                        spent += started.elapsed();
                        let row = claimed.first().expect("a due row");
                        assert!(inbox.complete(row, "bench", NOW).await.expect("a completion"));
                    }
                    spent
                })
            });
        });
        drop(inbox);
        let _ = std::fs::remove_dir_all(dir);
    }
    group.finish();
}

criterion_group!(benches, claim);
criterion_main!(benches);
