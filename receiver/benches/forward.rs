//! Forwarding throughput on loopback: 20,000 committed 512-byte deliveries in
//! a SQLite inbox, handed by the receiver's worker (its default concurrency,
//! `Handler::Forward`, as `GEMINI_RECEIVER_FORWARD_URL` sets up) to an
//! application on 127.0.0.1 that verifies each forward's signature under the
//! forward secret and answers 204, as the README's FastAPI example does.
//!
//! For each of 3 runs: forwards per second, from the worker's start until the
//! inbox holds nothing pending, and the process's CPU time per forward (the
//! worker, its HTTP client, SQLite, and the application's side: one process,
//! the same cores). Every forward must arrive once, verified.
//!
//! `cargo bench -p gemini-receiver --bench forward`
//! (`GEMINI_RECEIVER_CONCURRENCY=N` for another concurrency than the receiver's default)
#![allow(clippy::indexing_slicing, clippy::unwrap_used)] // a bench: a bad index is a crashed run

#[path = "load/cpu.rs"]
mod cpu;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use cpu::cpu_time;
use gemini_receiver::{DEFAULT_CONCURRENCY, Forwarder, Handler};
use tokio::sync::watch;
use webhook_signature::{Headers, Timestamp, Webhook};
use webhook_signature_inbox::{Inbox, NewDelivery, SqliteOptions, Worker, unix_now};

const FORWARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const DELIVERIES: usize = 20_000;
const RUNS: usize = 3;
/// Inserts in flight while the inbox is filled (under its queue bound of 512).
const FILL_IN_FLIGHT: usize = 256;

/// What the application saw.
#[derive(Default)]
struct Arrivals {
    verified: AtomicUsize,
    refused: AtomicUsize,
}

fn main() {
    let dir = std::env::temp_dir().join(format!("gemini-forward-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let arrivals = Arc::new(Arrivals::default());
        let application = application(arrivals.clone()).await;
        println!("{DELIVERIES} deliveries of 512 bytes, worker concurrency {}", concurrency());
        println!("\n| run | forwards/s | CPU per forward |");
        println!("|---|---|---|");
        for run in 1..=RUNS {
            let inbox =
                Inbox::open_sqlite(dir.join(format!("inbox-{run}.sqlite3")), &SqliteOptions::default())
                    .unwrap();
            fill(&inbox, run).await;
            arrivals.verified.store(0, Ordering::Relaxed);
            let (stop, stopped) = watch::channel(false);
            let cpu = cpu_time();
            let started = Instant::now();
            let worker = tokio::spawn(forward_all(inbox.clone(), application, stopped));
            drain(&inbox, &arrivals).await;
            let elapsed = started.elapsed();
            let per_forward = (cpu_time() - cpu) / DELIVERIES as u32;
            stop.send(true).unwrap();
            worker.await.unwrap();
            assert_eq!(arrivals.verified.load(Ordering::Relaxed), DELIVERIES, "each forward arrives once");
            assert_eq!(arrivals.refused.load(Ordering::Relaxed), 0, "every forward verifies");
            let rate = DELIVERIES as f64 / elapsed.as_secs_f64();
            println!("| {run} | {rate:.0} | {per_forward:.1?} |");
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Commits the run's deliveries, as the receiver's route would have.
async fn fill(inbox: &Inbox, run: usize) {
    let body = format!(r#"{{"type":"batch.succeeded","data":{{"pad":"{}"}}}}"#, "x".repeat(468)).into_bytes();
    assert_eq!(body.len(), 512);
    let now = unix_now();
    for chunk in (0..DELIVERIES).collect::<Vec<_>>().chunks(FILL_IN_FLIGHT) {
        let mut inserts = tokio::task::JoinSet::new();
        for i in chunk {
            let (inbox, body) = (inbox.clone(), body.clone());
            let delivery = NewDelivery {
                webhook_id: format!("msg_{run}_{i}"),
                event_type: "batch.succeeded".to_owned(),
                webhook_timestamp: now,
                body,
                authenticated: "signature".to_owned(),
                received_at: now,
                replay_key: None,
            };
            inserts.spawn(async move { inbox.insert(delivery).await.unwrap() });
        }
        inserts.join_all().await;
    }
}

/// The receiver's worker with its forwarding handler, until told to stop.
async fn forward_all(inbox: Inbox, application: SocketAddr, mut stopped: watch::Receiver<bool>) {
    let url = format!("http://{application}/gemini").parse().unwrap();
    let forwarder =
        Forwarder::new(url, Webhook::new(FORWARD_SECRET).unwrap(), Duration::from_secs(30)).unwrap();
    let handler = Handler::Forward(forwarder);
    let worker = Worker::new(inbox, "forward").with_concurrency(concurrency());
    let handle = move |row| {
        let handler = handler.clone();
        async move { handler.handle(&row).await }
    };
    worker
        .run_until(handle, async move { while stopped.changed().await.is_ok() && !*stopped.borrow() {} })
        .await;
}

/// The worker's concurrency: `GEMINI_RECEIVER_CONCURRENCY`, as for the
/// receiver, or its default.
fn concurrency() -> usize {
    std::env::var("GEMINI_RECEIVER_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CONCURRENCY)
}

/// Waits until every forward has arrived, then until the inbox has no row
/// pending or being handled (at most 5 min in all). The arrivals are an
/// atomic, read every millisecond; the inbox's counts (a pass over the
/// table) are read only at the end, so they do not weigh on the CPU figure.
async fn drain(inbox: &Inbox, arrivals: &Arrivals) {
    let started = Instant::now();
    let within_bound = || assert!(started.elapsed() < Duration::from_secs(300), "not drained within 5 min");
    while arrivals.verified.load(Ordering::Relaxed) < DELIVERIES {
        within_bound();
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    loop {
        let stats = inbox.stats(unix_now()).await.unwrap();
        if stats.pending + stats.processing == 0 {
            return;
        }
        within_bound();
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The application behind the receiver: verifies each forward under the
/// forward secret, 204 if it verifies, 401 if not.
async fn application(arrivals: Arc<Arrivals>) -> SocketAddr {
    async fn receive(
        State(state): State<(Arc<Webhook>, Arc<Arrivals>)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        let (key, arrivals) = state;
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let delivery = Headers {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
        };
        if key.verify(&delivery, &body, Timestamp::now()).is_ok() {
            arrivals.verified.fetch_add(1, Ordering::Relaxed);
            StatusCode::NO_CONTENT
        } else {
            arrivals.refused.fetch_add(1, Ordering::Relaxed);
            StatusCode::UNAUTHORIZED
        }
    }
    let key = Arc::new(Webhook::new(FORWARD_SECRET).unwrap());
    let app = Router::new().route("/gemini", post(receive)).with_state((key, arrivals));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}
