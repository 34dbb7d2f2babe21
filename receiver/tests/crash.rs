//! Crash tests of the real binary on 127.0.0.1: 2,000 signed deliveries with
//! unique ids from 32 concurrent senders that retry every non-2xx as Gemini
//! does; the receiver is killed with SIGKILL midway and restarted (SQLite), or
//! one of two instances sharing PostgreSQL is killed. Then every acknowledged
//! delivery is in the inbox exactly once and processed, and a delivery was
//! handled twice only if the instance that handled it first was killed.
//! Bounded: 2,000 deliveries, 180 s at most.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use webhook_signature::{Timestamp, Webhook};

const TOTAL: usize = 2000;
const SENDERS: usize = 32;
const DEADLINE: Duration = Duration::from_secs(180);

mod common;

use common::{SECRET, free_port};

fn scratch(name: &str) -> PathBuf {
    common::scratch("crash", name)
}

/// Starts the receiver binary as `instance` on `port`.
fn spawn(instance: &str, port: u16, dir: &Path, database: &[(&str, String)], lease: u64) -> Child {
    let mut command = common::receiver(port, &dir.join(format!("{instance}.stderr")));
    command
        .env("GEMINI_RECEIVER_INSTANCE", instance)
        .env("GEMINI_RECEIVER_LEASE_SECS", lease.to_string())
        // A PostgreSQL lease must outlast the database timeout.
        .env("GEMINI_RECEIVER_DB_TIMEOUT_SECS", lease.saturating_sub(1).max(1).to_string())
        .env("GEMINI_RECEIVER_HANDLER_LOG", dir.join("handled.log"))
        .env("RUST_LOG", "warn");
    for (name, value) in database {
        command.env(name, value);
    }
    command.spawn().unwrap()
}

async fn wait_ready(port: u16) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "receiver on {port} did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One POST on a fresh connection; the status, or `None` if the connection failed.
async fn post(port: u16, request: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    stream.write_all(request).await.ok()?;
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    read.ok()?.ok()?;
    std::str::from_utf8(response.get(9..12)?).ok()?.parse().ok()
}

fn request(i: usize) -> Vec<u8> {
    let id = format!("msg_crash_{i:04}");
    let body = format!(r#"{{"type":"batch.succeeded","version":"v1","data":{{"id":"batches/{i}"}}}}"#);
    let now = Timestamp::now();
    let signature = Webhook::new(SECRET).unwrap().sign(&id, now, body.as_bytes()).unwrap();
    let head = format!(
        "POST /webhooks/gemini HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nwebhook-id: {id}\r\nwebhook-timestamp: {now}\r\nwebhook-signature: {signature}\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body.as_bytes()].concat()
}

/// Sends every delivery, retrying until a 2xx, to whichever of `ports` is up.
/// Calls `midway` once, after `kill_after` deliveries were acknowledged.
async fn send_all(
    ports: Arc<Mutex<Vec<u16>>>,
    kill_after: usize,
    midway: impl FnOnce() + Send + 'static,
) -> HashSet<usize> {
    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let midway = Arc::new(Mutex::new(Some(midway)));
    let started = Instant::now();
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (next, acked, ports, midway) = (next.clone(), acked.clone(), ports.clone(), midway.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= TOTAL {
                        return;
                    }
                    for attempt in 0.. {
                        assert!(started.elapsed() < DEADLINE, "delivery {i} never acknowledged");
                        let port = {
                            let ports = ports.lock().unwrap();
                            ports[(sender + attempt) % ports.len()]
                        };
                        if post(port, &request(i)).await.is_some_and(|status| (200..300).contains(&status)) {
                            break;
                        }
                        // Gemini backs off between retries; a short pause keeps the test quick.
                        tokio::time::sleep(Duration::from_millis(25)).await;
                    }
                    let count = {
                        let mut acked = acked.lock().unwrap();
                        acked.insert(i);
                        acked.len()
                    };
                    if count >= kill_after {
                        let kill = midway.lock().unwrap().take();
                        if let Some(kill) = kill {
                            kill();
                        }
                    }
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    Arc::try_unwrap(acked).unwrap().into_inner().unwrap()
}

/// The handler log: per id, the instances that handled it, in order.
fn handled(dir: &Path) -> HashMap<String, Vec<String>> {
    let text = std::fs::read_to_string(dir.join("handled.log")).unwrap_or_default();
    let mut calls: HashMap<String, Vec<String>> = HashMap::new();
    for line in text.lines() {
        let (instance, id) = line.split_once(' ').unwrap();
        calls.entry(id.to_owned()).or_default().push(instance.to_owned());
    }
    calls
}

/// At-least-once, and no more: every id handled, twice only after a kill.
fn check_handler_calls(dir: &Path, ids: &HashSet<String>, killed: &str) {
    let calls = handled(dir);
    let mut twice = 0;
    for id in ids {
        let by = calls.get(id).unwrap_or_else(|| panic!("{id} was never handled"));
        match by.as_slice() {
            [_] => {}
            [first, second] if first == killed && second != killed => twice += 1,
            other => {
                panic!("{id} handled {other:?}: a second call must follow the kill of the first handler")
            }
        }
    }
    println!("{} deliveries handled, {twice} of them twice (their first handler was killed)", ids.len());
}

fn expected_ids() -> HashSet<String> {
    (0..TOTAL).map(|i| format!("msg_crash_{i:04}")).collect()
}

/// Polls until `done()` or the deadline.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(90), "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Kills every child when dropped, so a failed test leaves no receiver running.
struct Children(Arc<Mutex<Vec<Child>>>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in self.0.lock().unwrap().iter_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_survives_kill_9() {
    let dir = scratch("sqlite");
    let db = dir.join("inbox.sqlite3");
    let database = vec![("GEMINI_RECEIVER_DB", db.display().to_string())];
    let port = free_port();
    let children = Children(Arc::new(Mutex::new(vec![spawn("a1", port, &dir, &database, 1)])));
    wait_ready(port).await;

    let (slots, restart_dir) = (children.0.clone(), dir.clone());
    let acked = send_all(Arc::new(Mutex::new(vec![port])), TOTAL / 3, move || {
        let mut slots = slots.lock().unwrap();
        slots[0].kill().unwrap(); // SIGKILL: no shutdown, no flush
        slots[0].wait().unwrap();
        // Restarted on the same database and port; the senders retry meanwhile.
        slots.push(spawn("a2", port, &restart_dir, &database, 1));
    })
    .await;
    assert_eq!(acked.len(), TOTAL);

    let reader = rusqlite::Connection::open(&db).unwrap();
    let count = |sql: &str| -> i64 { reader.query_row(sql, [], |r| r.get(0)).unwrap() };
    eventually("every row is processed", || {
        count("SELECT count(*) FROM deliveries WHERE processed_at IS NULL") == 0
    })
    .await;
    // Exactly once into the inbox: every acknowledged id, and nothing else.
    let mut statement = reader.prepare("SELECT webhook_id FROM deliveries").unwrap();
    let stored: Vec<String> = statement.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(stored.len(), TOTAL);
    assert_eq!(stored.into_iter().collect::<HashSet<_>>(), expected_ids());
    check_handler_calls(&dir, &expected_ids(), "a1");
}

#[path = "../../inbox/tests/support/postgres.rs"]
mod postgres_schema;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
async fn postgres_survives_losing_one_of_two_instances() {
    let Some(url) = postgres_schema::database("crash_two").await else { return };
    let dir = scratch("postgres");
    let database = vec![("DATABASE_URL", url.clone())];
    let (port_a, port_b) = (free_port(), free_port());
    // A lease long enough that a live instance always finishes its batch within it.
    let children = Children(Arc::new(Mutex::new(vec![
        spawn("pa", port_a, &dir, &database, 5),
        spawn("pb", port_b, &dir, &database, 5),
    ])));
    wait_ready(port_a).await;
    wait_ready(port_b).await;

    let ports = Arc::new(Mutex::new(vec![port_a, port_b]));
    let (slots, survivors) = (children.0.clone(), ports.clone());
    let acked = send_all(ports, TOTAL / 3, move || {
        let mut slots = slots.lock().unwrap();
        slots[1].kill().unwrap(); // SIGKILL pb; pa carries on alone
        slots[1].wait().unwrap();
        *survivors.lock().unwrap() = vec![port_a];
    })
    .await;
    assert_eq!(acked.len(), TOTAL);

    let client = all_processed(&url).await;
    let rows = client.query("SELECT webhook_id, processed_by FROM deliveries", &[]).await.unwrap();
    assert_eq!(rows.len(), TOTAL);
    let by: HashMap<String, String> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(by.keys().cloned().collect::<HashSet<_>>(), expected_ids());
    // Exactly one instance committed each row's processed_at.
    assert!(by.values().all(|instance| instance == "pa" || instance == "pb"));
    let calls = handled(&dir);
    for (id, committed_by) in &by {
        assert_eq!(calls[id].last(), Some(committed_by), "{id}: the committing instance handled it last");
    }
    check_handler_calls(&dir, &expected_ids(), "pb");
}

/// A client on `url`, once every row of its inbox is processed (90 s at most).
async fn all_processed(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let started = Instant::now();
    loop {
        let pending: i64 = client
            .query_one("SELECT count(*) FROM deliveries WHERE processed_at IS NULL", &[])
            .await
            .unwrap()
            .get(0);
        if pending == 0 {
            return client;
        }
        assert!(started.elapsed() < Duration::from_secs(90), "{pending} rows never processed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Restarts the local PostgreSQL cluster (`pg_ctlcluster … restart -m fast`,
/// as a failover or a minor upgrade does): every open connection is cut.
fn restart_postgres() {
    let version = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL from Debian's packages (scripts/postgres.sh)")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .max_by_key(|name| name.parse::<u32>().unwrap_or(0))
        .unwrap();
    let status =
        Command::new("pg_ctlcluster").args([&version, "main", "restart", "-m", "fast"]).status().unwrap();
    assert!(status.success(), "pg_ctlcluster restart failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database, ignore = "needs DATABASE_URL: run scripts/postgres.sh")]
async fn postgres_restart_mid_run_heals_without_a_receiver_restart() {
    let Some(url) = postgres_schema::database("restart").await else { return };
    if Command::new("pg_ctlcluster").arg("--help").output().is_err() {
        assert!(
            std::env::var("REQUIRE_POSTGRES").is_err(),
            "REQUIRE_POSTGRES=1 but pg_ctlcluster is missing"
        );
        eprintln!("skipped: pg_ctlcluster is not here to restart PostgreSQL");
        return;
    }
    let dir = scratch("pg-restart");
    let port = free_port();
    let _children =
        Children(Arc::new(Mutex::new(vec![spawn("r1", port, &dir, &[("DATABASE_URL", url.clone())], 5)])));
    wait_ready(port).await;
    // A third of the way in, PostgreSQL restarts under the running receiver.
    let acked = send_all(Arc::new(Mutex::new(vec![port])), TOTAL / 3, || {
        std::thread::spawn(restart_postgres);
    })
    .await;
    assert_eq!(acked.len(), TOTAL);

    let client = all_processed(&url).await;
    let rows = client.query("SELECT webhook_id FROM deliveries", &[]).await.unwrap();
    let stored: HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!((rows.len(), stored), (TOTAL, expected_ids()), "every acknowledged id stored once");
    check_handler_calls(&dir, &expected_ids(), "none was killed");
}
