//! The built receiver on 127.0.0.1, tried as an attacker and as an operator
//! would: a sender that hangs up during a slow JWKS fetch, slow clients
//! during an attack, and SIGTERM with a delivery in flight. Bounded: a few
//! hundred connections at most, every wait capped.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use webhook_signature::{Timestamp, Webhook};
use webhook_signature_gemini::TokenSigner;

const AUDIENCE: &str = "https://receiver.example/webhooks/gemini";
const KEY_A: &str = include_str!("../../gemini/tests/fixtures/jwt/demo-2048-a.pem");
const JWKS_A: &str = include_str!("../../gemini/tests/fixtures/jwt/jwks-a.json");
const BODY: &str = r#"{"type":"batch.succeeded","version":"v1","data":{"id":"batches/hardening"}}"#;
const PATIENCE: Duration = Duration::from_secs(20);

mod common;

use common::{SECRET, free_port};

fn scratch(name: &str) -> PathBuf {
    common::scratch("hardening", name)
}

/// The receiver binary, killed when dropped.
struct Receiver {
    child: Child,
    port: u16,
    db: PathBuf,
}

impl Receiver {
    async fn start(dir: &Path, env: &[(&str, String)]) -> Self {
        let port = free_port();
        let db = dir.join("inbox.sqlite3");
        let mut command = common::receiver(port, &dir.join("receiver.stderr"));
        command.env("GEMINI_RECEIVER_DB", &db).env("RUST_LOG", "info");
        for (name, value) in env {
            command.env(name, value);
        }
        let receiver = Self { child: command.spawn().unwrap(), port, db };
        let started = Instant::now();
        while receiver.get("/healthz").await != Some(200) {
            assert!(started.elapsed() < Duration::from_secs(60), "the receiver did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        receiver
    }

    async fn get(&self, path: &str) -> Option<u16> {
        let request = format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n");
        exchange(self.port, request.as_bytes()).await
    }

    fn stored(&self) -> Vec<String> {
        let reader = rusqlite::Connection::open(&self.db).unwrap();
        let mut statement = reader.prepare("SELECT webhook_id FROM deliveries ORDER BY webhook_id").unwrap();
        statement.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `request` on a fresh connection; the status, if an answer came within `PATIENCE`.
async fn exchange(port: u16, request: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    stream.write_all(request).await.ok()?;
    let mut response = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut response)).await.ok()?.ok()?;
    std::str::from_utf8(response.get(9..12)?).ok()?.parse().ok()
}

fn head(id: &str, signature: &str, body_len: usize) -> String {
    format!(
        "POST /webhooks/gemini HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-type: application/json\r\n\
         content-length: {body_len}\r\nwebhook-id: {id}\r\nwebhook-timestamp: {}\r\nwebhook-signature: {signature}\r\n\r\n",
        Timestamp::now()
    )
}

fn signed(id: &str, body: &str) -> Vec<u8> {
    let signature = Webhook::new(SECRET).unwrap().sign(id, Timestamp::now(), body.as_bytes()).unwrap();
    [head(id, signature.as_ref(), body.len()).as_bytes(), body.as_bytes()].concat()
}

fn dynamic(id: &str) -> Vec<u8> {
    let now = Timestamp::now().as_unix_secs();
    let claims = serde_json::json!({"aud": AUDIENCE, "iat": now, "exp": now + 300});
    let token =
        TokenSigner::from_pem(KEY_A.as_bytes(), "demo-a").unwrap().sign(claims.as_object().unwrap()).unwrap();
    [head(id, &token, BODY.len()).as_bytes(), BODY.as_bytes()].concat()
}

/// A JWKS on 127.0.0.1 that answers after `delay`.
async fn slow_jwks(delay: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/jwks.json",
        get(move || async move {
            tokio::time::sleep(delay).await;
            JWKS_A
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hang_up_during_a_slow_jwks_fetch_does_not_stall_dynamic_mode() {
    let url = slow_jwks(Duration::from_secs(2)).await;
    let dir = scratch("hang-up");
    let receiver = Receiver::start(
        &dir,
        &[("GEMINI_WEBHOOK_AUDIENCE", AUDIENCE.to_owned()), ("GEMINI_WEBHOOK_JWKS_URL", url)],
    )
    .await;
    // The first dynamic delivery starts the fetch; its sender hangs up after 0.5 s.
    let mut impatient = TcpStream::connect(("127.0.0.1", receiver.port)).await.unwrap();
    impatient.write_all(&dynamic("msg_hung_up")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(impatient);
    // A valid dynamic delivery is then answered, and stored.
    assert_eq!(exchange(receiver.port, &dynamic("msg_after")).await, Some(204));
    assert_eq!(exchange(receiver.port, &dynamic("msg_again")).await, Some(204));
    assert!(receiver.stored().contains(&"msg_after".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_while_deliveries_are_served() {
    let dir = scratch("slow-clients");
    let receiver = Receiver::start(
        &dir,
        &[
            ("GEMINI_RECEIVER_HEADER_TIMEOUT_SECS", "2".to_owned()),
            ("GEMINI_RECEIVER_BODY_TIMEOUT_SECS", "3".to_owned()),
        ],
    )
    .await;
    let port = receiver.port;
    let started = Instant::now();
    // 100 slowloris (a header byte every 500 ms) and 100 slow bodies (a body byte every 500 ms).
    let attackers: Vec<_> = (0..200)
        .map(|i| {
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                let first = if i % 2 == 0 {
                    b"POST /webhooks/gemini HTTP/1.1\r\nhost: 127.0.0.1\r\n".to_vec()
                } else {
                    let full = signed(&format!("msg_slow_{i}"), &"x".repeat(200_000));
                    full[..full.len() - 200_000].to_vec() // the headers only
                };
                stream.write_all(&first).await.unwrap();
                for _ in 0..120 {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if stream.write_all(b"x").await.is_err() {
                        return true;
                    }
                    // A 408 (or a hang-up) ends the slow body.
                    let mut peek = [0u8; 1];
                    if let Ok(Ok(read)) =
                        tokio::time::timeout(Duration::from_millis(1), stream.read(&mut peek)).await
                    {
                        let _ = read;
                        return true;
                    }
                }
                false
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A delivery sent during the attack is answered.
    assert_eq!(exchange(port, &signed("msg_during_attack", BODY)).await, Some(204));
    for attacker in attackers {
        assert!(attacker.await.unwrap(), "a slow client was never cut off");
    }
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(receiver.stored(), ["msg_during_attack"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_answers_and_stores_the_delivery_in_flight_then_exits_0() {
    let dir = scratch("sigterm");
    let mut receiver = Receiver::start(&dir, &[]).await;
    let request = signed("msg_in_flight", BODY);
    let (first, last) = request.split_at(request.len() - 20);
    let mut stream = TcpStream::connect(("127.0.0.1", receiver.port)).await.unwrap();
    stream.write_all(first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = receiver.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    // The last 20 bytes arrive a second after SIGTERM.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stream.write_all(last).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut response)).await.unwrap().unwrap();
    assert_eq!(&response[9..12], b"204", "{}", String::from_utf8_lossy(&response));
    // It exits by itself, with 0.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = receiver.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < PATIENCE, "still running after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    assert_eq!(receiver.stored(), ["msg_in_flight"]);
    // The last line sums up what this process served and handled.
    let log = std::fs::read_to_string(dir.join("receiver.stderr")).unwrap();
    let last = log.lines().last().unwrap_or_default();
    for word in ["stopped", "connections", "shed", "processed", "retried", "dead_lettered"] {
        assert!(last.contains(word), "{word:?} not in the last line: {last}");
    }
}

/// An operator's settings: the secret from a mounted file (with the newline
/// `echo` leaves), and a smaller body limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_from_a_file_and_the_body_limit_from_the_environment() {
    let dir = scratch("secret-file");
    let secret_file = dir.join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let receiver = Receiver::start(
        &dir,
        &[
            // Empty is unset: only the file holds the secret.
            ("GEMINI_WEBHOOK_SECRET", String::new()),
            ("GEMINI_WEBHOOK_SECRET_FILE", secret_file.to_str().unwrap().to_owned()),
            ("GEMINI_RECEIVER_MAX_BODY_BYTES", "100".to_owned()),
        ],
    )
    .await;
    assert_eq!(exchange(receiver.port, &signed("msg_from_file", BODY)).await, Some(204));
    let big = format!(r#"{{"type":"batch.succeeded","pad":"{}"}}"#, "x".repeat(100));
    assert_eq!(exchange(receiver.port, &signed("msg_too_big", &big)).await, Some(413));
    assert_eq!(receiver.stored(), ["msg_from_file"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_their_own_listener_and_json_logs() {
    let dir = scratch("metrics");
    let metrics_port = free_port();
    let receiver = Receiver::start(
        &dir,
        &[
            ("GEMINI_RECEIVER_METRICS_ADDR", format!("127.0.0.1:{metrics_port}")),
            ("GEMINI_RECEIVER_LOG_FORMAT", "json".to_owned()),
        ],
    )
    .await;
    for i in 0..5 {
        assert_eq!(exchange(receiver.port, &signed(&format!("msg_ok_{i}"), BODY)).await, Some(204));
    }
    for i in 0..3 {
        let mut tampered = signed(&format!("msg_bad_{i}"), BODY);
        let last = tampered.len() - 3;
        tampered[last] ^= 1;
        assert_eq!(exchange(receiver.port, &tampered).await, Some(401));
    }
    // Not on the public port.
    assert_eq!(receiver.get("/metrics").await, Some(404));
    let request = b"GET /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n";
    let mut stream = TcpStream::connect(("127.0.0.1", metrics_port)).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut page = String::new();
    tokio::time::timeout(PATIENCE, stream.read_to_string(&mut page)).await.unwrap().unwrap();
    assert!(page.contains("\ngemini_receiver_deliveries_total{outcome=\"stored\"} 5\n"), "{page}");
    assert!(page.contains("\ngemini_receiver_deliveries_total{outcome=\"rejected\"} 3\n"), "{page}");
    // JSON lines, and the lines about a delivery carry its webhook_id (the worker's "event" lines).
    let started = Instant::now();
    loop {
        let log = std::fs::read_to_string(dir.join("receiver.stderr")).unwrap();
        let lines: Vec<serde_json::Value> =
            log.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        let about = |id: &str| lines.iter().any(|line| line["fields"]["webhook_id"] == id);
        if (0..5).all(|i| about(&format!("msg_ok_{i}"))) {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "no JSON line per delivery in:\n{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_closes_after_the_configured_timeout_and_is_counted() {
    let dir = scratch("idle");
    let receiver = Receiver::start(&dir, &[("GEMINI_RECEIVER_IDLE_TIMEOUT_SECS", "1".to_owned())]).await;
    // Keep-alive: answered, then held open only until the idle timer (1 s, not
    // the default 60 s, which would outlast PATIENCE) closes it.
    let mut stream = TcpStream::connect(("127.0.0.1", receiver.port)).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut response))
        .await
        .expect("the idle connection was closed")
        .unwrap();
    assert!(response.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&response));

    let request = b"GET /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n";
    let mut stream = TcpStream::connect(("127.0.0.1", receiver.port)).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut page = String::new();
    tokio::time::timeout(PATIENCE, stream.read_to_string(&mut page)).await.unwrap().unwrap();
    assert!(page.lines().any(|line| line == "gemini_receiver_connections_expired_total 1"), "{page}");
    assert!(
        page.lines().any(|line| line == "gemini_receiver_requests_in_flight 1"),
        "only /metrics itself: {page}"
    );
}
