//! Signed deliveries sent to the router in-process (tower's `oneshot`): valid,
//! tampered, stale, replayed, oversized, rotated-secret and unknown events.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gemini_receiver::{AppState, Event, InMemoryDeduplicator, router};
use tokio::sync::mpsc;
use tower::ServiceExt;
use webhook_signature::{Timestamp, Webhook};

const CURRENT: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PREVIOUS: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const NOW: u64 = 1_795_000_000;
const MAX_BODY: usize = 4096;

fn fixed_now() -> Timestamp {
    Timestamp::from_unix_secs(NOW)
}

struct Receiver {
    app: axum::Router,
    events: mpsc::UnboundedReceiver<Event>,
}

impl Receiver {
    fn new() -> Self {
        let (sender, events) = mpsc::unbounded_channel();
        let keys = vec![Webhook::new(CURRENT).unwrap(), Webhook::new(PREVIOUS).unwrap()];
        let state = AppState {
            keys: Arc::new(keys),
            dedup: Arc::new(InMemoryDeduplicator::default()),
            events: sender,
            now: fixed_now,
        };
        Self { app: router(state, MAX_BODY), events }
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

    fn processed(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
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

const VIDEO: &str = r#"{"type":"video.generated","version":"v1","timestamp":"2026-11-26T12:00:00Z","data":{"id":"operations/veo-1","output_file_uri":"https://example.test/v.mp4","file_name":"files/v"}}"#;

#[tokio::test]
async fn valid_delivery_is_acknowledged_and_processed_once() {
    let mut receiver = Receiver::new();
    let delivery = signed(CURRENT, "msg_1", NOW, VIDEO);
    assert_eq!(receiver.send(&delivery).await, StatusCode::NO_CONTENT);
    // A retry of the same delivery is acknowledged again, but not processed twice.
    assert_eq!(receiver.send(&delivery).await, StatusCode::NO_CONTENT);
    let expected = Event::VideoGenerated {
        id: "operations/veo-1".to_owned(),
        output_file_uri: "https://example.test/v.mp4".to_owned(),
        file_name: "files/v".to_owned(),
    };
    assert_eq!(receiver.processed(), vec![expected]);
}

#[tokio::test]
async fn tampered_stale_and_oversized_deliveries_are_rejected() {
    let mut receiver = Receiver::new();
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
    assert_eq!(receiver.processed(), vec![]);
}

#[tokio::test]
async fn the_previous_secret_is_accepted_during_rotation() {
    let mut receiver = Receiver::new();
    let delivery = signed(PREVIOUS, "msg_6", NOW, VIDEO);
    assert_eq!(receiver.send(&delivery).await, StatusCode::NO_CONTENT);
    assert_eq!(receiver.processed().len(), 1);
}

#[tokio::test]
async fn every_documented_event_type_is_typed_and_unknown_ones_acknowledged() {
    let mut receiver = Receiver::new();
    let envelope = |kind: &str, data: &str| {
        format!(r#"{{"type":"{kind}","version":"v1","timestamp":"t","data":{data}}}"#)
    };
    let failed = r#"{"id":"b1","error_code":"INTERNAL","error_message":"boom"}"#;
    let cases = [
        (
            envelope("batch.succeeded", r#"{"id":"b1","output_file_uri":"u"}"#),
            Event::BatchSucceeded { id: "b1".into(), output_file_uri: "u".into() },
        ),
        (
            envelope("batch.failed", failed),
            Event::Failed {
                kind: "batch.failed".into(),
                id: "b1".into(),
                error_code: "INTERNAL".into(),
                error_message: "boom".into(),
            },
        ),
        (
            envelope("interaction.failed", failed),
            Event::Failed {
                kind: "interaction.failed".into(),
                id: "b1".into(),
                error_code: "INTERNAL".into(),
                error_message: "boom".into(),
            },
        ),
        (
            envelope("batch.cancelled", r#"{"id":"b1"}"#),
            Event::Status { kind: "batch.cancelled".into(), id: "b1".into() },
        ),
        (
            envelope("batch.expired", r#"{"id":"b1"}"#),
            Event::Status { kind: "batch.expired".into(), id: "b1".into() },
        ),
        (
            envelope("interaction.requires_action", r#"{"id":"i1"}"#),
            Event::Status { kind: "interaction.requires_action".into(), id: "i1".into() },
        ),
        (
            envelope("interaction.completed", r#"{"id":"i1"}"#),
            Event::Status { kind: "interaction.completed".into(), id: "i1".into() },
        ),
        (
            envelope("interaction.cancelled", r#"{"id":"i1"}"#),
            Event::Status { kind: "interaction.cancelled".into(), id: "i1".into() },
        ),
        (envelope("model.retired", r#"{"anything":[1,2]}"#), Event::Unknown { kind: "model.retired".into() }),
    ];
    for (i, (body, expected)) in cases.into_iter().enumerate() {
        let delivery = signed(CURRENT, &format!("msg_event_{i}"), NOW, &body);
        assert_eq!(receiver.send(&delivery).await, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(receiver.processed(), vec![expected], "{body}");
    }
    let not_an_envelope = signed(CURRENT, "msg_not_json", NOW, "hello");
    assert_eq!(receiver.send(&not_an_envelope).await, StatusCode::BAD_REQUEST);
}
