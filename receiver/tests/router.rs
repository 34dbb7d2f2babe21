//! Deliveries sent to the router in-process (tower's `oneshot`), with an
//! SQLite inbox in a temporary directory: valid, tampered, stale, replayed,
//! oversized, rotated-secret, unknown events, bodies that are not envelopes,
//! a full disk, and dynamic (JWT) deliveries checked against a JWKS served on
//! 127.0.0.1 from the committed fixtures.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use gemini_receiver::{AppState, router};
use tower::ServiceExt;
use webhook_signature::{Timestamp, Webhook};
use webhook_signature_axum::{Reason, Rejections, WebhookConfig};
use webhook_signature_gemini::{
    DynamicVerifier, GeminiVerifier, JobCapabilities, JwksCache, Receiver, TokenSigner,
};
use webhook_signature_inbox::{Inbox, SqliteOptions};

// The Standard Webhooks spec's example secret, and a second one for rotation.
const CURRENT: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PREVIOUS: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const NOW: u64 = 1_795_000_000;
const MAX_BODY: usize = 4096;
const AUDIENCE: &str = "https://receiver.example/webhooks/gemini";
const KEY_A: &str = include_str!("../../gemini/tests/fixtures/jwt/demo-2048-a.pem");
const KEY_B: &str = include_str!("../../gemini/tests/fixtures/jwt/demo-2048-b.pem");
const JWKS_A: &str = include_str!("../../gemini/tests/fixtures/jwt/jwks-a.json");

fn fixed_now() -> Timestamp {
    Timestamp::from_unix_secs(NOW)
}

struct Harness {
    app: axum::Router,
    verifier: Arc<GeminiVerifier>,
    rejections: Arc<Rejections>,
    db: PathBuf,
}

impl Harness {
    /// A receiver whose JWKS URL is `jwks_url` (nothing listens there unless a test serves it).
    fn new(name: &str, jwks_url: &str, options: &SqliteOptions) -> Self {
        Self::adjusted(name, jwks_url, options, |state| state)
    }

    /// [`new`](Self::new), with `adjust` applied to the state.
    fn adjusted(
        name: &str,
        jwks_url: &str,
        options: &SqliteOptions,
        adjust: fn(AppState) -> AppState,
    ) -> Self {
        let dir = std::env::temp_dir().join(format!("gemini-router-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("inbox.sqlite3");
        let keys = vec![Webhook::new(CURRENT).unwrap(), Webhook::new(PREVIOUS).unwrap()];
        let receiver = Receiver::new(keys).with_dynamic(DynamicVerifier::new([AUDIENCE]));
        let webhooks =
            WebhookConfig::new(GeminiVerifier::new(receiver, JwksCache::new(jwks_url).unwrap()).unwrap())
                .with_max_body(MAX_BODY)
                .with_clock(fixed_now);
        let verifier = webhooks.verifier().clone();
        let rejections = webhooks.rejections().clone();
        let inbox = Inbox::open_sqlite(&db, options).unwrap();
        let state = adjust(AppState::new(webhooks, inbox).with_clock(|| 1_795_000_001));
        Self { app: router(state), verifier, rejections, db }
    }

    fn offline(name: &str) -> Self {
        Self::new(name, "http://127.0.0.1:9/jwks.json", &SqliteOptions::default())
    }

    async fn get(&self, path: &str) -> StatusCode {
        let request = Request::get(path).body(Body::empty()).unwrap();
        self.app.clone().oneshot(request).await.unwrap().status()
    }

    async fn send(&self, delivery: &Delivery) -> StatusCode {
        self.answer(delivery).await.status()
    }

    /// The whole answer to `delivery`.
    async fn answer(&self, delivery: &Delivery) -> axum::response::Response {
        self.answer_at("/webhooks/gemini", delivery).await
    }

    /// The whole answer to `delivery` posted to `path`.
    async fn answer_at(&self, path: &str, delivery: &Delivery) -> axum::response::Response {
        let request = Request::post(path)
            .header("content-type", "application/json")
            .header("content-length", delivery.body.len())
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", delivery.timestamp.to_string())
            .header("webhook-signature", &delivery.signature)
            .body(Body::from(delivery.body.clone()))
            .unwrap();
        self.app.clone().oneshot(request).await.unwrap()
    }

    /// The stored rows: (webhook_id, event_type, authenticated, body).
    fn stored(&self) -> Vec<(String, String, String, Vec<u8>)> {
        let reader = rusqlite::Connection::open(&self.db).unwrap();
        let mut statement = reader
            .prepare("SELECT webhook_id, event_type, authenticated, body FROM deliveries ORDER BY webhook_id")
            .unwrap();
        statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

struct Delivery {
    id: String,
    timestamp: u64,
    signature: String,
    body: Vec<u8>,
}

fn signed(secret: &str, id: &str, timestamp: u64, body: &str) -> Delivery {
    let webhook = Webhook::new(secret).unwrap();
    let signature = webhook.sign(id, Timestamp::from_unix_secs(timestamp), body.as_bytes()).unwrap();
    Delivery {
        id: id.to_owned(),
        timestamp,
        signature: signature.to_string(),
        body: body.as_bytes().to_vec(),
    }
}

fn dynamic(key: &str, id: &str, body: &str) -> Delivery {
    dynamic_at(key, id, body, NOW)
}

/// A dynamic delivery whose token was issued at `iat`.
fn dynamic_at(key: &str, id: &str, body: &str, iat: u64) -> Delivery {
    let claims = serde_json::json!({"aud": AUDIENCE, "iat": iat, "exp": iat + 300});
    let token =
        TokenSigner::from_pem(key.as_bytes(), "demo-a").unwrap().sign(claims.as_object().unwrap()).unwrap();
    Delivery { id: id.to_owned(), timestamp: NOW, signature: token, body: body.as_bytes().to_vec() }
}

const VIDEO: &str = r#"{"type":"video.generated","version":"v1","timestamp":"2026-11-26T12:00:00Z","data":{"id":"operations/veo-1","output_file_uri":"https://example.test/v.mp4","file_name":"files/v"}}"#;

#[tokio::test]
async fn valid_delivery_is_stored_once() {
    let receiver = Harness::offline("valid");
    let delivery = signed(CURRENT, "msg_1", NOW, VIDEO);
    assert_eq!(receiver.send(&delivery).await, StatusCode::NO_CONTENT);
    // A retry of the same delivery is acknowledged again, and stored once.
    assert_eq!(receiver.send(&delivery).await, StatusCode::NO_CONTENT);
    let stored = receiver.stored();
    assert_eq!(
        stored,
        [("msg_1".into(), "video.generated".into(), "signature".into(), VIDEO.as_bytes().to_vec())]
    );
    // Static deliveries never touch the network.
    assert_eq!(receiver.verifier.jwks().fetches(), 0);
}

#[tokio::test]
async fn tampered_stale_and_oversized_deliveries_are_rejected() {
    let receiver = Harness::offline("rejected");
    let mut tampered = signed(CURRENT, "msg_2", NOW, VIDEO);
    // Re-serialised JSON is different bytes: the raw body must be verified.
    tampered.body = VIDEO.replace(r#"","#, r#"", "#).into_bytes();
    assert_eq!(receiver.send(&tampered).await, StatusCode::UNAUTHORIZED);
    let stale = signed(CURRENT, "msg_3", NOW - 600, VIDEO);
    assert_eq!(receiver.send(&stale).await, StatusCode::UNAUTHORIZED);
    let unknown_key = signed("whsec_a2V5", "msg_4", NOW, VIDEO);
    assert_eq!(receiver.send(&unknown_key).await, StatusCode::UNAUTHORIZED);
    let padding = " ".repeat(MAX_BODY);
    let oversized = signed(CURRENT, "msg_5", NOW, &format!("{VIDEO}{padding}"));
    assert_eq!(receiver.send(&oversized).await, StatusCode::PAYLOAD_TOO_LARGE);
    let mut no_id = signed(CURRENT, "msg_6", NOW, VIDEO);
    no_id.id = String::new();
    assert_eq!(receiver.send(&no_id).await, StatusCode::BAD_REQUEST);
    assert!(receiver.stored().is_empty());
}

#[tokio::test]
async fn the_previous_secret_is_accepted_during_rotation() {
    let receiver = Harness::offline("rotation");
    assert_eq!(receiver.send(&signed(PREVIOUS, "msg_6", NOW, VIDEO)).await, StatusCode::NO_CONTENT);
    assert_eq!(receiver.stored().len(), 1);
}

#[tokio::test]
async fn unknown_events_and_non_envelopes_are_stored() {
    let receiver = Harness::offline("unknown");
    let unknown = r#"{"type":"model.retired","version":"v1","data":{"anything":[1,2]}}"#;
    assert_eq!(receiver.send(&signed(CURRENT, "msg_7", NOW, unknown)).await, StatusCode::NO_CONTENT);
    // Authentic, but not an envelope: 2xx (or Gemini retries for 24 hours), stored as unknown.
    assert_eq!(receiver.send(&signed(CURRENT, "msg_8", NOW, "hello")).await, StatusCode::NO_CONTENT);
    // A type that makes no label (a NUL, which PostgreSQL's text cannot hold;
    // a kilobyte of text): stored as unknown, its body intact.
    let nul = r#"{"type":"batch.\u0000x","version":"v1","data":{}}"#;
    assert_eq!(receiver.send(&signed(CURRENT, "msg_9", NOW, nul)).await, StatusCode::NO_CONTENT);
    let long = format!(r#"{{"type":"{}","version":"v1","data":{{}}}}"#, "x".repeat(1000));
    assert_eq!(receiver.send(&signed(CURRENT, "msg_a", NOW, &long)).await, StatusCode::NO_CONTENT);
    let stored = receiver.stored();
    let kinds: Vec<_> = stored.iter().map(|row| (row.0.as_str(), row.1.as_str())).collect();
    assert_eq!(
        kinds,
        [("msg_7", "model.retired"), ("msg_8", "unknown"), ("msg_9", "unknown"), ("msg_a", "unknown")]
    );
    assert_eq!(stored[2].3, nul.as_bytes(), "the body keeps the original type");
}

#[tokio::test]
async fn a_full_disk_is_503_never_2xx() {
    let options = SqliteOptions { max_page_count: Some(12), ..SqliteOptions::default() };
    let receiver = Harness::new("full", "http://127.0.0.1:9/jwks.json", &options);
    let body = format!(r#"{{"type":"batch.succeeded","data":{{"id":"b"}},"pad":"{}"}}"#, "x".repeat(3000));
    let mut statuses = Vec::new();
    for i in 0..40 {
        statuses.push(receiver.send(&signed(CURRENT, &format!("msg_full_{i}"), NOW, &body)).await);
    }
    assert!(statuses.contains(&StatusCode::SERVICE_UNAVAILABLE), "{statuses:?}");
    let acknowledged = statuses.iter().filter(|s| **s == StatusCode::NO_CONTENT).count();
    assert_eq!(receiver.stored().len(), acknowledged, "every 2xx is stored, nothing else");
}

#[tokio::test]
async fn dynamic_deliveries_fetch_the_jwks_once() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let jwks_app = axum::Router::new().route("/jwks.json", get(|| async { JWKS_A }));
    tokio::spawn(async move { axum::serve(listener, jwks_app).await });

    let receiver = Harness::new("dynamic", &url, &SqliteOptions::default());
    assert_eq!(receiver.send(&dynamic(KEY_A, "msg_d1", VIDEO)).await, StatusCode::NO_CONTENT);
    // Another token (issued a second later) with the same event: a new delivery.
    let later = dynamic_at(KEY_A, "msg_d2", VIDEO, NOW + 1);
    assert_eq!(receiver.send(&later).await, StatusCode::NO_CONTENT);
    // Signed by another key under the demo kid.
    assert_eq!(receiver.send(&dynamic(KEY_B, "msg_d3", VIDEO)).await, StatusCode::UNAUTHORIZED);
    let stored = receiver.stored();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|row| row.2 == "bearer-token"), "a token that does not bind the body");
    assert_eq!(receiver.verifier.jwks().fetches(), 1);
    assert_eq!(receiver.send(&signed(CURRENT, "msg_s", NOW, VIDEO)).await, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn no_keys_to_be_had_is_503_so_the_sender_retries() {
    // Nothing listens on the JWKS port: the first fetch fails at once.
    let receiver = Harness::offline("no-keys");
    assert_eq!(receiver.send(&dynamic(KEY_A, "msg_nk", VIDEO)).await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(receiver.rejections.count(Reason::Unavailable), 1);
    assert!(receiver.stored().is_empty());
}

#[tokio::test]
async fn an_oversized_dynamic_delivery_costs_no_fetch() {
    let receiver = Harness::offline("oversized-dynamic");
    let padding = " ".repeat(MAX_BODY);
    let oversized = dynamic(KEY_A, "msg_big", &format!("{VIDEO}{padding}"));
    assert_eq!(receiver.send(&oversized).await, StatusCode::PAYLOAD_TOO_LARGE);
    // Stale comes before Content-Length, and both before any key work.
    let mut stale = dynamic(KEY_A, "msg_stale", &format!("{VIDEO}{padding}"));
    stale.timestamp = NOW - 3600;
    assert_eq!(receiver.send(&stale).await, StatusCode::UNAUTHORIZED);
    assert_eq!(receiver.verifier.jwks().fetches(), 0);
    assert_eq!(receiver.rejections.count(Reason::TooLarge), 1);
    assert_eq!(receiver.rejections.count(Reason::StaleTimestamp), 1);
}

#[tokio::test]
async fn rejections_are_counted_by_reason() {
    let receiver = Harness::offline("counted");
    let mut tampered = signed(CURRENT, "msg_t", NOW, VIDEO);
    tampered.body = b"{}".to_vec();
    assert_eq!(receiver.send(&tampered).await, StatusCode::UNAUTHORIZED);
    let mut no_id = signed(CURRENT, "msg_n", NOW, VIDEO);
    no_id.id = String::new();
    assert_eq!(receiver.send(&no_id).await, StatusCode::BAD_REQUEST);
    assert_eq!(receiver.rejections.count(Reason::NoMatchingSignature), 1);
    assert_eq!(receiver.rejections.count(Reason::MissingHeader), 1);
    assert_eq!(receiver.rejections.total(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_that_hangs_is_503_at_the_commit_timeout_and_the_retry_is_stored_once() {
    // The inbox itself would wait a minute for the lock: the receiver's bound answers first.
    let options = SqliteOptions { busy_timeout: Duration::from_secs(60), ..SqliteOptions::default() };
    let receiver = Harness::adjusted("hang", "http://127.0.0.1:9/jwks.json", &options, |state| {
        state.with_commit_timeout(Duration::from_millis(300))
    });
    let locker = rusqlite::Connection::open(&receiver.db).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let delivery = signed(CURRENT, "msg_hang", NOW, r#"{"type":"batch.succeeded","data":{"id":"h"}}"#);
    let status = tokio::time::timeout(Duration::from_secs(20), receiver.send(&delivery))
        .await
        .expect("answered at the commit timeout, not the busy timeout");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // The lock goes; the write queued before the 503 may land; the sender's retry is acknowledged.
    locker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(receiver.send(&delivery).await, StatusCode::NO_CONTENT);
    assert_eq!(receiver.stored().len(), 1);
}

#[tokio::test]
async fn health_and_readiness() {
    let receiver = Harness::offline("health");
    assert_eq!(receiver.get("/healthz").await, StatusCode::OK);
    assert_eq!(receiver.get("/readyz").await, StatusCode::OK);
    // A database someone else holds locked: writes cannot be taken, so not ready.
    let locker = rusqlite::Connection::open(&receiver.db).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    assert_eq!(receiver.get("/readyz").await, StatusCode::SERVICE_UNAVAILABLE);
    locker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(receiver.get("/readyz").await, StatusCode::OK);
    assert_eq!(receiver.get("/healthz").await, StatusCode::OK);
}

/// A full write queue (the database stuck behind a lock) answers 503 with
/// `Retry-After` at once, instead of holding the delivery; the deliveries
/// the queue took are stored once the database moves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_write_queue_is_503_with_retry_after_at_once() {
    let options =
        SqliteOptions { busy_timeout: Duration::from_secs(60), queue_bound: 1, ..SqliteOptions::default() };
    let receiver = Arc::new(Harness::new("overloaded", "http://127.0.0.1:9/jwks.json", &options));
    let locker = rusqlite::Connection::open(&receiver.db).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let sends: Vec<_> = (0..10)
        .map(|i| {
            let receiver = receiver.clone();
            tokio::spawn(async move {
                let delivery = signed(CURRENT, &format!("msg_q{i}"), NOW, r#"{"type":"batch.succeeded"}"#);
                let answer = receiver.answer(&delivery).await;
                let retry_after = answer.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
                (answer.status(), retry_after)
            })
        })
        .collect();
    // The refused ones answer while the lock is still held.
    let mut refused = 0;
    for _ in 0..500 {
        refused = sends.iter().filter(|send| send.is_finished()).count();
        if refused >= 7 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused >= 7, "at most the writer's batch and one queued write wait: {refused} refused");
    locker.execute_batch("ROLLBACK").unwrap();
    let mut stored = 0;
    for send in sends {
        match tokio::time::timeout(Duration::from_secs(30), send).await.unwrap().unwrap() {
            (StatusCode::NO_CONTENT, None) => stored += 1,
            (StatusCode::SERVICE_UNAVAILABLE, Some(retry_after)) => assert_eq!(retry_after, "5"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(receiver.stored().len(), stored, "every 204 stored, no 503 stored");
}

/// If the worker stops while the receiver serves, it is not ready: deliveries
/// would be acknowledged that nobody handles.
#[tokio::test]
async fn a_stopped_worker_is_not_ready() {
    let receiver =
        Harness::adjusted("no-worker", "http://127.0.0.1:9/jwks.json", &SqliteOptions::default(), |state| {
            state.worker_alive.store(false, std::sync::atomic::Ordering::Relaxed);
            state
        });
    assert_eq!(receiver.get("/readyz").await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(receiver.get("/healthz").await, StatusCode::OK);
}

/// A captured dynamic delivery (its token and body) resent under new
/// `webhook-id`s with fresh timestamps verifies, but is a replay: it is
/// acknowledged and stored once.
#[tokio::test]
async fn a_dynamic_delivery_replayed_under_new_ids_is_stored_once() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let jwks_app = axum::Router::new().route("/jwks.json", get(|| async { JWKS_A }));
    tokio::spawn(async move { axum::serve(listener, jwks_app).await });
    let receiver = Harness::new("replay", &url, &SqliteOptions::default());
    let original = dynamic(KEY_A, "msg_original", VIDEO);
    assert_eq!(receiver.send(&original).await, StatusCode::NO_CONTENT);
    for (i, id) in ["msg_replay_1", "msg_replay_2"].into_iter().enumerate() {
        let replay =
            Delivery { id: id.to_owned(), timestamp: NOW + 1 + i as u64, ..dynamic(KEY_A, id, VIDEO) };
        assert_eq!(
            receiver.send(&replay).await,
            StatusCode::NO_CONTENT,
            "acknowledged: the sender must stop"
        );
    }
    let stored = receiver.stored();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].0, "msg_original");
}

/// The job capabilities' secret of [`capabilities_are_required_of_dynamic_deliveries`].
const CAPABILITY_SECRET: &[u8] = b"a local secret of 32 bytes or more, for tests";

/// With capabilities on, a dynamic delivery must carry a valid job
/// capability (in the path or as `?t=`); a forged one is refused before the
/// JWKS is fetched; static deliveries need none.
#[tokio::test]
async fn capabilities_are_required_of_dynamic_deliveries() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let jwks_app = axum::Router::new().route("/jwks.json", get(|| async { JWKS_A }));
    tokio::spawn(async move { axum::serve(listener, jwks_app).await });
    let receiver = Harness::adjusted("capabilities", &url, &SqliteOptions::default(), |state| {
        state.with_capabilities(Some(JobCapabilities::new(CAPABILITY_SECRET).unwrap()))
    });
    let capabilities = JobCapabilities::new(CAPABILITY_SECRET).unwrap();
    let job = capabilities.issue_for("job-1").unwrap();
    let other =
        JobCapabilities::new(b"someone else's secret, 32 bytes or more").unwrap().issue_for("job-1").unwrap();

    let status = |answer: axum::response::Response| answer.status();
    let forged = receiver
        .answer_at(&format!("/webhooks/gemini/{other}"), &dynamic_at(KEY_A, "msg_c0", VIDEO, NOW))
        .await;
    assert_eq!(status(forged), StatusCode::UNAUTHORIZED);
    assert_eq!(receiver.verifier.jwks().fetches(), 0, "refused before any key is fetched");
    let bare = receiver.answer(&dynamic_at(KEY_A, "msg_c1", VIDEO, NOW + 1)).await;
    assert_eq!(status(bare), StatusCode::UNAUTHORIZED, "a dynamic delivery without a capability");
    let in_path = receiver
        .answer_at(&format!("/webhooks/gemini/{job}"), &dynamic_at(KEY_A, "msg_c2", VIDEO, NOW + 2))
        .await;
    assert_eq!(status(in_path), StatusCode::NO_CONTENT);
    let in_query = receiver
        .answer_at(&format!("/webhooks/gemini?t={job}"), &dynamic_at(KEY_A, "msg_c3", VIDEO, NOW + 3))
        .await;
    assert_eq!(status(in_query), StatusCode::NO_CONTENT);
    assert_eq!(
        receiver.send(&signed(CURRENT, "msg_c4", NOW, VIDEO)).await,
        StatusCode::NO_CONTENT,
        "static: no capability"
    );
    let stored: Vec<String> = receiver.stored().into_iter().map(|row| row.0).collect();
    assert_eq!(stored, ["msg_c2", "msg_c3", "msg_c4"]);
}
