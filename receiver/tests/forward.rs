//! The built receiver forwards each committed delivery to an application on
//! 127.0.0.1, signed under the forward secret, through the inbox's retries:
//! a target that fails twice gets the delivery on the third attempt, and a
//! target that is down gets everything once it comes back. The retries wait
//! at most a second (`GEMINI_RECEIVER_MAX_BACKOFF_SECS=1`), so each test
//! takes seconds; each is bounded to a minute.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use common::{BODY, deliver, eventually, free_port, receiver, scratch};
use rusqlite::{Connection, OptionalExtension};
use webhook_signature::{Headers, Timestamp, Webhook};
use webhook_signature_gemini::TokenSigner;

/// The application's secret (not Gemini's): 24 arbitrary bytes in base64,
/// for these tests only.
const FORWARD_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

const BOUND: Duration = Duration::from_secs(60);

const AUDIENCE: &str = "https://receiver.example/webhooks/gemini";
const KEY_A: &str = include_str!("../../gemini/tests/fixtures/jwt/demo-2048-a.pem");
const JWKS_A: &str = include_str!("../../gemini/tests/fixtures/jwt/jwks-a.json");

/// What the application received: one entry per request.
#[derive(Clone, Default)]
struct Target {
    seen: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// How many requests are answered 503 before the first 204.
    failures: usize,
}

impl Target {
    fn seen(&self) -> Vec<(HeaderMap, Bytes)> {
        self.seen.lock().unwrap().clone()
    }
}

async fn hook(State(target): State<Target>, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
    let mut seen = target.seen.lock().unwrap();
    seen.push((headers, body));
    if seen.len() <= target.failures {
        (StatusCode::SERVICE_UNAVAILABLE, "application restarting\n")
    } else {
        (StatusCode::NO_CONTENT, "")
    }
}

/// Serves `target` on 127.0.0.1:`port` until `runtime` is dropped, with
/// the test JWKS at `/jwks.json` for dynamic deliveries.
fn serve(runtime: &tokio::runtime::Runtime, port: u16, target: &Target) {
    let app = axum::Router::new()
        .route("/hook", post(hook))
        .route("/jwks.json", get(|| async { JWKS_A }))
        .with_state(target.clone());
    let listener = runtime.block_on(tokio::net::TcpListener::bind(("127.0.0.1", port))).unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
}

/// The receiver on `port` with its SQLite inbox in `dir`, forwarding to
/// `target_port`; add the test's own variables, then spawn it.
fn forwarding_receiver(dir: &Path, port: u16, target_port: u16) -> Command {
    let mut command = receiver(port, &dir.join("stderr"));
    command
        .env("GEMINI_RECEIVER_DB", dir.join("inbox.sqlite3"))
        .env("GEMINI_RECEIVER_FORWARD_URL", format!("http://127.0.0.1:{target_port}/hook"))
        .env("GEMINI_RECEIVER_FORWARD_SECRET", FORWARD_SECRET)
        .env("GEMINI_RECEIVER_MAX_BACKOFF_SECS", "1");
    command
}

/// `(processed_at, last_error)` of the row `id`, once it exists.
fn row(db: &Connection, id: &str) -> Option<(Option<i64>, Option<String>, i64)> {
    db.query_row(
        "SELECT processed_at, last_error, attempts FROM deliveries WHERE webhook_id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
    .unwrap()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).unwrap().to_str().unwrap()
}

/// The CLI built beside this test (`cargo test` builds every binary of the
/// packages it tests: run with `-p webhook-signature-cli` too, or the workspace).
fn cli() -> PathBuf {
    let dir = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_owned();
    let cli = dir.join("webhook-signature");
    assert!(cli.exists(), "{} not built: cargo build -p webhook-signature-cli", cli.display());
    cli
}

/// The receiver's `/metrics` page.
fn metrics(port: u16) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut page = String::new();
    stream.read_to_string(&mut page).unwrap();
    page
}

fn stop(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_delivery_reaches_the_application_after_two_failures() {
    let dir = scratch("forward", "retried");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let target = Target { failures: 2, ..Target::default() };
    let target_port = free_port();
    serve(&runtime, target_port, &target);
    let port = free_port();
    let child = forwarding_receiver(&dir, port, target_port).spawn().unwrap();
    eventually("listening", BOUND, || std::net::TcpStream::connect(("127.0.0.1", port)).ok());

    assert_eq!(deliver(port, "msg_forwarded"), 204);
    let db = Connection::open(dir.join("inbox.sqlite3")).unwrap();
    let (_, last_error, attempts) = eventually("the row processed", BOUND, || {
        row(&db, "msg_forwarded").filter(|(processed_at, ..)| processed_at.is_some())
    });
    let page = metrics(port);
    stop(child);
    for line in [
        r#"gemini_receiver_forwards_total{outcome="refused",status_class="5xx"} 2"#,
        r#"gemini_receiver_forwards_total{outcome="delivered",status_class="2xx"} 1"#,
        "gemini_receiver_forward_seconds_count 3",
    ] {
        assert!(page.lines().any(|l| l == line), "{line} not in\n{page}");
    }

    assert_eq!(attempts, 3);
    assert_eq!(last_error.as_deref(), Some("status 503: application restarting"));
    let seen = target.seen();
    assert_eq!(seen.len(), 3, "two refused, then accepted once");
    let key = Webhook::new(FORWARD_SECRET).unwrap();
    let gemini = Webhook::new(common::SECRET).unwrap();
    for (headers, body) in &seen {
        assert_eq!(body.as_ref(), BODY.as_bytes(), "the exact body");
        assert_eq!(header(headers, "webhook-id"), "msg_forwarded", "the original id");
        let signed = Headers {
            id: header(headers, "webhook-id"),
            timestamp: header(headers, "webhook-timestamp"),
            signature: header(headers, "webhook-signature"),
        };
        key.verify_ignoring_timestamp(&signed, body).unwrap();
        assert!(gemini.verify_ignoring_timestamp(&signed, body).is_err(), "signed anew, not Gemini's");
        assert_eq!(header(headers, "gemini-event-type"), "batch.succeeded");
        assert_eq!(header(headers, "gemini-authenticated"), "signature");
        assert_eq!(header(headers, "gemini-mode"), "static");
        assert_eq!(header(headers, "content-type"), "application/json");
    }

    // The operator sees the last failure beside the processed row.
    let shown = Command::new(cli())
        .args(["inbox", "show", "msg_forwarded", "--db"])
        .arg(dir.join("inbox.sqlite3"))
        .env_clear()
        .output()
        .unwrap();
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["state"], "processed");
    assert_eq!(shown["last_error"], "status 503: application restarting");

    // The log, written to a file, names each failure and carries no colour codes.
    let log = std::fs::read_to_string(dir.join("stderr")).unwrap();
    assert!(log.contains("forwarding deliveries"), "{log}");
    assert!(log.contains("forward failed"), "{log}");
    assert!(!log.contains('\u{1b}'), "{log:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn deliveries_wait_for_an_application_that_is_down() {
    let dir = scratch("forward", "down");
    let target_port = free_port();
    let port = free_port();
    let child = forwarding_receiver(&dir, port, target_port).spawn().unwrap();
    eventually("listening", BOUND, || std::net::TcpStream::connect(("127.0.0.1", port)).ok());

    // Nobody listens on the target's port: every delivery is still acknowledged.
    let ids = ["msg_down_1", "msg_down_2", "msg_down_3"];
    for id in ids {
        assert_eq!(deliver(port, id), 204);
    }
    let db = Connection::open(dir.join("inbox.sqlite3")).unwrap();
    for id in ids {
        let (_, last_error, _) = eventually("a second failed attempt", BOUND, || {
            row(&db, id).filter(|(processed_at, last_error, attempts)| {
                processed_at.is_none() && last_error.is_some() && *attempts >= 2
            })
        });
        let last_error = last_error.unwrap();
        assert!(last_error.to_lowercase().contains("connection refused"), "{last_error}");
        assert!(!last_error.contains("127.0.0.1"), "no URL, which may carry credentials: {last_error}");
    }

    // The application comes back: each delivery arrives, once.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let target = Target::default();
    serve(&runtime, target_port, &target);
    for id in ids {
        eventually("processed once the application is back", BOUND, || {
            row(&db, id).filter(|(processed_at, ..)| processed_at.is_some())
        });
    }
    stop(child);
    let mut arrived: Vec<String> =
        target.seen().iter().map(|(headers, _)| header(headers, "webhook-id").to_owned()).collect();
    arrived.sort();
    assert_eq!(arrived, ids);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A dynamic delivery (an RS256 token that does not bind the body) is
/// forwarded as such: `gemini-mode: dynamic`, `gemini-authenticated:
/// bearer-token`, signed under the forward secret like any other.
#[test]
fn a_dynamic_delivery_is_forwarded_as_dynamic() {
    let dir = scratch("forward", "dynamic");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let target = Target::default();
    let target_port = free_port();
    serve(&runtime, target_port, &target);
    let port = free_port();
    let child = forwarding_receiver(&dir, port, target_port)
        .env("GEMINI_WEBHOOK_AUDIENCE", AUDIENCE)
        .env("GEMINI_WEBHOOK_JWKS_URL", format!("http://127.0.0.1:{target_port}/jwks.json"))
        .spawn()
        .unwrap();
    eventually("listening", BOUND, || std::net::TcpStream::connect(("127.0.0.1", port)).ok());

    let now = Timestamp::now().as_unix_secs();
    let claims = serde_json::json!({"aud": AUDIENCE, "iat": now, "exp": now + 300});
    let token =
        TokenSigner::from_pem(KEY_A.as_bytes(), "demo-a").unwrap().sign(claims.as_object().unwrap()).unwrap();
    assert_eq!(deliver_signed(port, "msg_dynamic", &token), 204);
    let db = Connection::open(dir.join("inbox.sqlite3")).unwrap();
    eventually("the row processed", BOUND, || {
        row(&db, "msg_dynamic").filter(|(processed_at, ..)| processed_at.is_some())
    });
    stop(child);

    let seen = target.seen();
    assert_eq!(seen.len(), 1);
    let (headers, body) = &seen[0];
    assert_eq!(body.as_ref(), BODY.as_bytes());
    assert_eq!(header(headers, "gemini-mode"), "dynamic");
    assert_eq!(header(headers, "gemini-authenticated"), "bearer-token");
    let signed = Headers {
        id: header(headers, "webhook-id"),
        timestamp: header(headers, "webhook-timestamp"),
        signature: header(headers, "webhook-signature"),
    };
    assert_eq!(signed.id, "msg_dynamic");
    Webhook::new(FORWARD_SECRET).unwrap().verify_ignoring_timestamp(&signed, body).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// [`BODY`] with `signature` as its `webhook-signature`; the status code.
fn deliver_signed(port: u16, id: &str, signature: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /webhooks/gemini HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {}\r\n\
         webhook-id: {id}\r\nwebhook-timestamp: {}\r\nwebhook-signature: {signature}\r\n\r\n{BODY}",
        BODY.len(),
        Timestamp::now()
    )
    .unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer[9..12].parse().unwrap()
}
