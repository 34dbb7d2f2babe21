//! `GET /metrics` after a mix of valid, tampered, duplicate and 503
//! deliveries, in-process (one test: the recorder is per process).
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gemini_receiver::metrics::Metrics;
use gemini_receiver::{AppState, router};
use http_body_util::BodyExt;
use std::time::Duration;
use tower::ServiceExt;
use webhook_signature::{Timestamp, Webhook};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use webhook_signature_axum::{Limits, WebhookConfig, serve_with_stats};
use webhook_signature_gemini::{DynamicVerifier, GeminiVerifier, JwksCache, Receiver, TokenSigner};
use webhook_signature_inbox::{Inbox, SqliteOptions, Worker};

// The Standard Webhooks spec's example secret.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: u64 = 1_795_000_000;
const AUDIENCE: &str = "https://receiver.example/webhooks/gemini";
const KEY_A: &str = include_str!("../../gemini/tests/fixtures/jwt/demo-2048-a.pem");
const BODY: &str = r#"{"type":"batch.succeeded","version":"v1","data":{"id":"batches/m"}}"#;

fn post(id: &str, signature: &str, body: &str) -> Request<Body> {
    Request::post("/webhooks/gemini")
        .header("content-length", body.len())
        .header("webhook-id", id)
        .header("webhook-timestamp", NOW.to_string())
        .header("webhook-signature", signature)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn signed(id: &str) -> String {
    Webhook::new(SECRET)
        .unwrap()
        .sign(id, Timestamp::from_unix_secs(NOW), BODY.as_bytes())
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn metrics_after_a_mix_of_deliveries() {
    let dir = std::env::temp_dir().join(format!("gemini-metrics-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let receiver =
        Receiver::new(vec![Webhook::new(SECRET).unwrap()]).with_dynamic(DynamicVerifier::new([AUDIENCE]));
    // Nothing listens for the JWKS: a dynamic delivery gets 503.
    let jwks = JwksCache::new("http://127.0.0.1:9/jwks.json").unwrap();
    let webhooks = WebhookConfig::new(GeminiVerifier::new(receiver, jwks).unwrap())
        .with_clock(|| Timestamp::from_unix_secs(NOW));
    let inbox = Inbox::open_sqlite(dir.join("inbox.sqlite3"), &SqliteOptions::default()).unwrap();
    let state = AppState::new(webhooks, inbox)
        .with_clock(|| 1_795_000_010)
        .with_metrics(Some(Metrics::install().unwrap()));
    let (server, handled) = (state.server.clone(), state.handled.clone());
    let worker = Worker::new(state.inbox.clone(), "metrics").with_stats(handled);
    let app = router(state);
    let send = |request: Request<Body>| {
        let app = app.clone();
        async move { app.oneshot(request).await.unwrap().status() }
    };

    for i in 0..5 {
        let id = format!("msg_m{i}");
        assert_eq!(send(post(&id, &signed(&id), BODY)).await, StatusCode::NO_CONTENT);
    }
    assert_eq!(send(post("msg_m0", &signed("msg_m0"), BODY)).await, StatusCode::NO_CONTENT, "duplicate");
    for i in 0..3 {
        let id = format!("msg_t{i}");
        assert_eq!(send(post(&id, &signed(&id), "{}")).await, StatusCode::UNAUTHORIZED, "tampered");
    }
    let claims = serde_json::json!({"aud": AUDIENCE, "iat": NOW, "exp": NOW + 300});
    let token =
        TokenSigner::from_pem(KEY_A.as_bytes(), "demo-a").unwrap().sign(claims.as_object().unwrap()).unwrap();
    assert_eq!(send(post("msg_dyn", &token, BODY)).await, StatusCode::SERVICE_UNAVAILABLE);

    // One connection through the real server, counted into the state's stats.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_with_stats(listener, app.clone(), Limits::default(), server, std::future::pending()));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    // The worker handles one row; its handler fails: a retry, counted.
    assert_eq!(worker.run_once(|_| async { Err("downstream is down".into()) }).await.unwrap(), 1);

    let response = app.clone().oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    for line in [
        r#"gemini_receiver_deliveries_total{outcome="stored"} 5"#,
        r#"gemini_receiver_deliveries_total{outcome="duplicate"} 1"#,
        r#"gemini_receiver_deliveries_total{outcome="rejected"} 3"#,
        r#"gemini_receiver_deliveries_total{outcome="unavailable"} 1"#,
        r#"gemini_receiver_rejections_total{reason="no_matching_signature"} 3"#,
        r#"gemini_receiver_rejections_total{reason="unavailable"} 1"#,
        r#"gemini_receiver_inbox_rows{state="pending"} 5"#,
        r#"gemini_receiver_inbox_rows{state="failed"} 0"#,
        "gemini_receiver_processing_lag_seconds 0", // the fixed clock: received just now
        "gemini_receiver_handler_panics_total 0",
        "gemini_receiver_inbox_queue_depth 0",
        r#"gemini_receiver_jwks_fetches_total{result="error"} 1"#,
        "gemini_receiver_commit_seconds_count 6",
        "gemini_receiver_connections_total 1",
        "gemini_receiver_requests_in_flight 0",
        "gemini_receiver_requests_shed_total 0",
        "gemini_receiver_connections_expired_total 0",
        r#"gemini_receiver_handled_total{outcome="retried"} 1"#,
        r#"gemini_receiver_handled_total{outcome="processed"} 0"#,
    ] {
        assert!(page.lines().any(|l| l == line), "missing {line:?} in:\n{page}");
    }
    assert!(page.contains("gemini_receiver_commit_seconds_bucket{le="));
}
