//! Deliveries sent to the router in-process (tower's `oneshot`): valid,
//! tampered, stale, replayed, oversized, rotated-secret, unknown events,
//! bodies that are not envelopes, and dynamic (JWT) deliveries checked
//! against a JWKS served on 127.0.0.1 from the committed fixtures.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use gemini_receiver::{Accepted, AppState, Authenticated, Event, InMemoryDeduplicator, router};
use tokio::sync::mpsc;
use tower::ServiceExt;
use webhook_signature::{Timestamp, Webhook};
use webhook_signature_axum::WebhookConfig;
use webhook_signature_gemini::{DynamicVerifier, GeminiVerifier, JwksCache, Receiver, TokenSigner};

// The Standard Webhooks spec's example secret, and a second one for rotation.
const CURRENT: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PREVIOUS: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const NOW: u64 = 1_795_000_000;
const MAX_BODY: usize = 4096;
const AUDIENCE: &str = "https://receiver.example/webhooks/gemini";
const KEY_A: &str = include_str!("../../../tests/fixtures/jwt/demo-2048-a.pem");
const KEY_B: &str = include_str!("../../../tests/fixtures/jwt/demo-2048-b.pem");
const JWKS_A: &str = include_str!("../../../tests/fixtures/jwt/jwks-a.json");

fn fixed_now() -> Timestamp {
    Timestamp::from_unix_secs(NOW)
}

struct Harness {
    app: axum::Router,
    verifier: Arc<GeminiVerifier>,
    events: mpsc::UnboundedReceiver<Accepted>,
}

impl Harness {
    /// A receiver whose JWKS URL is `jwks_url` (nothing listens there unless a test serves it).
    fn new(jwks_url: &str) -> Self {
        let (sender, events) = mpsc::unbounded_channel();
        let keys = vec![Webhook::new(CURRENT).unwrap(), Webhook::new(PREVIOUS).unwrap()];
        let receiver = Receiver::new(keys).with_dynamic(DynamicVerifier::new([AUDIENCE]));
        let verifier = GeminiVerifier::new(receiver, JwksCache::new(jwks_url));
        let webhooks = WebhookConfig::new(verifier).with_max_body(MAX_BODY).with_clock(fixed_now);
        let verifier = webhooks.verifier().clone();
        let state = AppState { webhooks, dedup: Arc::new(InMemoryDeduplicator::default()), events: sender };
        Self { app: router(state), verifier, events }
    }

    fn offline() -> Self {
        Self::new("http://127.0.0.1:9/jwks.json")
    }

    async fn send(&self, delivery: &Delivery) -> StatusCode {
        let request = Request::post("/webhooks/gemini")
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", delivery.timestamp.to_string())
            .header("webhook-signature", &delivery.signature)
            .body(Body::from(delivery.body.clone()))
            .unwrap();
        self.app.clone().oneshot(request).await.unwrap().status()
    }

    fn processed(&mut self) -> Vec<Accepted> {
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
    }

    fn processed_events(&mut self) -> Vec<Event> {
        self.processed().into_iter().map(|accepted| accepted.envelope.unwrap().event).collect()
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
    let claims = serde_json::json!({"aud": AUDIENCE, "iat": NOW, "exp": NOW + 300});
    let token =
        TokenSigner::from_pem(key.as_bytes(), "demo-a").unwrap().sign(claims.as_object().unwrap()).unwrap();
    Delivery { id: id.to_owned(), timestamp: NOW, signature: token, body: body.as_bytes().to_vec() }
}

const VIDEO: &str = r#"{"type":"video.generated","version":"v1","timestamp":"2026-11-26T12:00:00Z","data":{"id":"operations/veo-1","output_file_uri":"https://example.test/v.mp4","file_name":"files/v"}}"#;

#[tokio::test]
async fn valid_delivery_is_acknowledged_and_processed_once() {
    let mut receiver = Harness::offline();
    let delivery = signed(CURRENT, "msg_1", NOW, VIDEO);
    assert_eq!(receiver.send(&delivery).await, StatusCode::NO_CONTENT);
    // A retry of the same delivery is acknowledged again, but not processed twice.
    assert_eq!(receiver.send(&delivery).await, StatusCode::NO_CONTENT);
    let processed = receiver.processed();
    assert_eq!(processed.len(), 1);
    assert_eq!(processed[0].authenticated, Authenticated::Signature);
    let Ok(envelope) = &processed[0].envelope else { panic!("not an envelope") };
    let Event::VideoGenerated(data) = &envelope.event else { panic!("{:?}", envelope.event) };
    assert_eq!(data.output_file_uri.as_deref(), Some("https://example.test/v.mp4"));
    // Static deliveries never touch the network.
    assert_eq!(receiver.verifier.jwks().fetches(), 0);
}

#[tokio::test]
async fn tampered_stale_and_oversized_deliveries_are_rejected() {
    let mut receiver = Harness::offline();
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
    assert!(receiver.processed().is_empty());
}

#[tokio::test]
async fn the_previous_secret_is_accepted_during_rotation() {
    let mut receiver = Harness::offline();
    let delivery = signed(PREVIOUS, "msg_6", NOW, VIDEO);
    assert_eq!(receiver.send(&delivery).await, StatusCode::NO_CONTENT);
    assert_eq!(receiver.processed().len(), 1);
}

#[tokio::test]
async fn unknown_events_and_non_envelopes_are_acknowledged() {
    let mut receiver = Harness::offline();
    let unknown = r#"{"type":"model.retired","version":"v1","data":{"anything":[1,2]}}"#;
    assert_eq!(receiver.send(&signed(CURRENT, "msg_7", NOW, unknown)).await, StatusCode::NO_CONTENT);
    let events = receiver.processed_events();
    assert!(matches!(&events[..], [Event::Unknown { kind, .. }] if kind == "model.retired"));
    // Authentic, but not an envelope: 2xx, or Gemini retries it for 24 hours.
    assert_eq!(receiver.send(&signed(CURRENT, "msg_8", NOW, "hello")).await, StatusCode::NO_CONTENT);
    assert!(receiver.processed()[0].envelope.is_err());
}

#[tokio::test]
async fn dynamic_deliveries_fetch_the_jwks_once() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let jwks_app = axum::Router::new().route("/jwks.json", get(|| async { JWKS_A }));
    tokio::spawn(async move { axum::serve(listener, jwks_app).await });

    let mut receiver = Harness::new(&url);
    assert_eq!(receiver.send(&dynamic(KEY_A, "msg_d1", VIDEO)).await, StatusCode::NO_CONTENT);
    assert_eq!(receiver.send(&dynamic(KEY_A, "msg_d2", VIDEO)).await, StatusCode::NO_CONTENT);
    // Signed by another key under the demo kid.
    assert_eq!(receiver.send(&dynamic(KEY_B, "msg_d3", VIDEO)).await, StatusCode::UNAUTHORIZED);
    let processed = receiver.processed();
    assert_eq!(processed.len(), 2);
    assert!(processed.iter().all(|accepted| accepted.authenticated == Authenticated::BearerToken));
    assert_eq!(receiver.verifier.jwks().fetches(), 1);
    // Static deliveries still work beside them.
    assert_eq!(receiver.send(&signed(CURRENT, "msg_s", NOW, VIDEO)).await, StatusCode::NO_CONTENT);
}
