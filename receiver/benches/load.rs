//! Load figures on loopback: signed 512-byte deliveries with unique ids over
//! 64 keep-alive connections (`LOAD_CONNECTIONS` to change), side by side in
//! one run:
//! - (a) through verification only;
//! - (b) into the SQLite inbox, with its worker running;
//! - (c) into the PostgreSQL inbox at `DATABASE_URL`, with its worker running;
//! - (d) the floor under any durable store: a plain file with one
//!   `fdatasync` per batch ([`floor`]).
//!
//! For each: deliveries per second, p50/p99 latency, the process's CPU time
//! per delivery (every thread: receiver, inbox and load generator), and how
//! long the inbox's worker then took to handle the rest (the next route
//! waits for it, so no backlog runs beside it); then (b)/(a) and (d)/(a) per
//! run. The CPU time is split by thread, from each thread's
//! `/proc/self/task/*/schedstat`: the tokio workers (HTTP, verification,
//! both ends of the load) and the writer thread (SQLite's for (b), the
//! file's for (d)). Also this disk's fsync rate, which bounds what (b) can
//! commit without group commit. All four are served by
//! `webhook_signature_axum::serve`, as the receiver is. Bounded: 3 runs of
//! 20,000 deliveries per route.
//!
//! `bash scripts/load.sh` (= `cargo bench -p gemini-receiver --bench load`)
#![allow(clippy::indexing_slicing, clippy::unwrap_used)] // a bench: a bad index is a crashed run

#[path = "load/cpu.rs"]
mod cpu;
#[path = "load/floor.rs"]
mod floor;

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use cpu::cpu_time;
use gemini_receiver::{AppState, DEFAULT_CONCURRENCY, Handler, router};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use webhook_signature::{Timestamp, Webhook};
use webhook_signature_axum::{Limits, VerifiedWebhook, WebhookConfig};
use webhook_signature_gemini::{GeminiVerifier, JwksCache, Receiver};
use webhook_signature_inbox::{Inbox, SqliteOptions, Worker};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Connections per route, unless `LOAD_CONNECTIONS` says otherwise.
const CONNECTIONS: usize = 64;
const DELIVERIES: usize = 20_000;
const RUNS: usize = 3;
/// The SQLite inbox's writer thread, as `/proc/self/task/*/comm` shows it
/// (the kernel truncates names to 15 bytes).
const SQLITE_WRITER: &str = "inbox-sqlite-wr";

/// One route of the table.
struct Route {
    name: &'static str,
    addr: SocketAddr,
    /// Its inbox, whose worker must be idle before the next route runs.
    inbox: Option<Inbox>,
    /// The thread whose CPU time the "writer thread" column shows.
    writer: Option<&'static str>,
}

fn main() {
    let dir = std::env::temp_dir().join(format!("gemini-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    println!("fsync rate of {}: {:.0} fsyncs/s", dir.display(), fsync_rate(&dir));
    println!("{} connections per route", connections());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let verify_only = serve(verification_only()).await;
        let inbox = Inbox::open_sqlite(dir.join("inbox.sqlite3"), &SqliteOptions::default()).unwrap();
        spawn_worker(inbox.clone());
        let with_sqlite = serve(router(AppState::new(config(), inbox.clone()))).await;
        let mut routes = vec![
            Route { name: "(a) verification only", addr: verify_only, inbox: None, writer: None },
            Route { name: "(b) SQLite inbox", addr: with_sqlite, inbox: Some(inbox), writer: Some(SQLITE_WRITER) },
        ];
        match std::env::var("DATABASE_URL") {
            Ok(url) => {
                let inbox = Inbox::connect_postgres(&url).await.unwrap();
                spawn_worker(inbox.clone());
                let app = serve(router(AppState::new(config(), inbox.clone()))).await;
                routes.push(Route { name: "(c) PostgreSQL inbox", addr: app, inbox: Some(inbox), writer: None });
            }
            Err(_) => {
                println!("(c) skipped: DATABASE_URL is not set (bash scripts/postgres.sh starts a server)")
            }
        }
        let file_only = serve(floor::router(&dir, config())).await;
        routes.push(Route {
            name: "(d) floor: a file, fdatasync per batch",
            addr: file_only,
            inbox: None,
            writer: Some(floor::THREAD),
        });
        println!(
            "\n| run | route | deliveries/s | p50 | p99 | CPU per delivery | of which tokio workers | of which writer thread | worker done after |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        let (mut ratios, mut floors) = (Vec::new(), Vec::new());
        for run in 1..=RUNS {
            let mut rates = Vec::new();
            for Route { name, addr, inbox, writer } in &routes {
                let cpu = cpu_time();
                let threads = thread_cpu_times();
                let (rate, p50, p99) =
                    load(*addr, &format!("{run}{}-{}", &name[1..2], std::process::id())).await;
                let per_delivery = (cpu_time() - cpu) / DELIVERIES as u32;
                let after = thread_cpu_times();
                // Per thread, then summed by name: tokio's blocking threads
                // share the workers' name and may exit in between.
                let spent = |name: &str| {
                    let total: Duration = after
                        .iter()
                        .filter(|(_, (thread, _))| thread == name)
                        .map(|(tid, (_, cpu))| cpu.saturating_sub(threads.get(tid).map_or(Duration::ZERO, |t| t.1)))
                        .sum();
                    total / DELIVERIES as u32
                };
                let (tokio, writer) = (spent("tokio-rt-worker"), writer.map_or(Duration::ZERO, spent));
                // The next route is measured only once this one's worker is idle
                // again: its backlog would otherwise slow the next route down.
                let drained = match inbox {
                    Some(inbox) => format!("{:.1?}", drain(inbox).await),
                    None => "-".to_owned(),
                };
                println!(
                    "| {run} | {name} | {rate:.0} | {p50:.2?} | {p99:.2?} | {per_delivery:.1?} | {tokio:.1?} | {writer:.1?} | {drained} |"
                );
                rates.push(rate);
            }
            // (a) and (b) come first, (d) last.
            ratios.push(rates[1] / rates[0]);
            floors.push(rates[rates.len() - 1] / rates[0]);
        }
        println!();
        for (name, ratios) in [("(b)", &mut ratios), ("(d)", &mut floors)] {
            ratios.sort_by(f64::total_cmp);
            println!("{name} / (a) per run: {ratios:.2?}, median {:.2}", ratios[ratios.len() / 2]);
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// The receiver's worker on `inbox`, as in production (its log lines off).
fn spawn_worker(inbox: Inbox) {
    let worker = Worker::new(inbox, "load").with_concurrency(DEFAULT_CONCURRENCY);
    let handler = Handler::Log;
    tokio::spawn(async move {
        worker
            .run(move |row| {
                let handler = handler.clone();
                async move { handler.handle(&row).await }
            })
            .await
    });
}

/// Waits until `inbox` has no row pending or being handled (at most 5 min):
/// how long the worker took, after the load ended, to handle every delivery.
async fn drain(inbox: &Inbox) -> Duration {
    let started = Instant::now();
    loop {
        let stats = inbox.stats(webhook_signature_inbox::unix_now()).await.unwrap();
        if stats.pending + stats.processing == 0 || started.elapsed() > Duration::from_secs(300) {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn config() -> WebhookConfig<GeminiVerifier> {
    let receiver = Receiver::new(vec![Webhook::new(SECRET).unwrap()]);
    WebhookConfig::new(
        GeminiVerifier::new(receiver, JwksCache::new("http://127.0.0.1:9/unused").unwrap()).unwrap(),
    )
}

fn verification_only() -> Router {
    Router::new()
        .route(
            "/webhooks/gemini",
            post(|_: VerifiedWebhook<GeminiVerifier>| async { StatusCode::NO_CONTENT }),
        )
        .with_state(config())
}

async fn serve(app: Router) -> SocketAddr {
    let listener =
        webhook_signature_axum::listen("127.0.0.1:0", webhook_signature_axum::DEFAULT_BACKLOG).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(webhook_signature_axum::serve(listener, app, Limits::default(), std::future::pending()));
    addr
}

/// This process's CPU time (user + system, every thread: the receiver, the
/// load generator, the inbox), from `/proc/self/stat` in clock ticks (1/100 s).
/// On-CPU time and name of each thread, by thread id, from each thread's
/// `schedstat` (nanoseconds, first field). The names are truncated to 15
/// bytes by the kernel ([`SQLITE_WRITER`], [`floor::THREAD`]).
fn thread_cpu_times() -> std::collections::HashMap<String, (String, Duration)> {
    let mut times = std::collections::HashMap::new();
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let read = |file: &str| std::fs::read_to_string(task.path().join(file)).unwrap_or_default();
        let nanos = read("schedstat").split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let tid = task.file_name().to_string_lossy().into_owned();
        times.insert(tid, (read("comm").trim().to_owned(), Duration::from_nanos(nanos)));
    }
    times
}

/// Writes and fsyncs 4 KiB 200 times: how many durable commits per second
/// this disk allows one writer.
fn fsync_rate(dir: &std::path::Path) -> f64 {
    let mut file = std::fs::File::create(dir.join("fsync.probe")).unwrap();
    let block = [0u8; 4096];
    let started = Instant::now();
    for _ in 0..200 {
        file.write_all(&block).unwrap();
        file.sync_data().unwrap();
    }
    200.0 / started.elapsed().as_secs_f64()
}

/// `LOAD_CONNECTIONS`, or [`CONNECTIONS`].
fn connections() -> usize {
    std::env::var("LOAD_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(CONNECTIONS)
}

/// Sends `DELIVERIES` signed deliveries over `connections()` connections:
/// deliveries per second, p50 and p99 latency.
async fn load(addr: SocketAddr, tag: &str) -> (f64, Duration, Duration) {
    let webhook = Webhook::new(SECRET).unwrap();
    let body = {
        let mut body =
            br#"{"type":"batch.succeeded","version":"v1","data":{"id":"batches/1"},"pad":""#.to_vec();
        body.resize(510, b'x');
        body.extend_from_slice(b"\"}");
        body
    };
    let now = Timestamp::now();
    let connections = connections();
    let mut shares: Vec<Vec<Vec<u8>>> = (0..connections).map(|_| Vec::new()).collect();
    for i in 0..DELIVERIES {
        let id = format!("msg_load_{tag}_{i}");
        let signature = webhook.sign(&id, now, &body).unwrap();
        let head = format!(
            "POST /webhooks/gemini HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nwebhook-id: {id}\r\nwebhook-timestamp: {now}\r\nwebhook-signature: {signature}\r\n\r\n",
            body.len()
        );
        shares[i % connections].push([head.as_bytes(), &body].concat());
    }
    let started = Instant::now();
    let tasks: Vec<_> = shares.into_iter().map(|share| tokio::spawn(connection(addr, share))).collect();
    let mut latencies = Vec::with_capacity(DELIVERIES);
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let rate = DELIVERIES as f64 / started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    (rate, latencies[latencies.len() / 2], latencies[latencies.len() * 99 / 100])
}

async fn connection(addr: SocketAddr, requests: Vec<Vec<u8>>) -> Vec<Duration> {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut stream = BufReader::new(stream);
    let mut line = String::new();
    let mut latencies = Vec::with_capacity(requests.len());
    for request in requests {
        let sent = Instant::now();
        stream.get_mut().write_all(&request).await.unwrap();
        line.clear();
        stream.read_line(&mut line).await.unwrap();
        assert!(line.starts_with("HTTP/1.1 204"), "{line}");
        loop {
            line.clear();
            stream.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
        }
        latencies.push(sent.elapsed());
    }
    latencies
}
