//! Gemini envelopes: every documented event type, the `video_uri` alias,
//! unknown types and bodies that are not envelopes.
//! Field names: Gemini API docs, "Webhooks" (event payloads), 2026.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use serde_json::json;
use webhook_signature_gemini::{Envelope, Event, EventData};

fn parse(kind: &str, data: serde_json::Value) -> Event {
    let body = json!({"type": kind, "version": "v1", "timestamp": "2026-11-26T12:00:00Z", "data": data});
    Envelope::parse(body.to_string().as_bytes()).unwrap().event
}

#[test]
fn every_documented_type() {
    let data = json!({"id": "batches/1", "unknown_field": true});
    let mut expected = EventData::default();
    expected.id = Some("batches/1".into());
    type Wrap = fn(EventData) -> Event;
    let cases: [(&str, Wrap); 9] = [
        ("batch.succeeded", Event::BatchSucceeded),
        ("batch.failed", Event::BatchFailed),
        ("batch.cancelled", Event::BatchCancelled),
        ("batch.expired", Event::BatchExpired),
        ("interaction.requires_action", Event::InteractionRequiresAction),
        ("interaction.completed", Event::InteractionCompleted),
        ("interaction.failed", Event::InteractionFailed),
        ("interaction.cancelled", Event::InteractionCancelled),
        ("video.generated", Event::VideoGenerated),
    ];
    for (kind, wrap) in cases {
        let event = parse(kind, data.clone());
        assert_eq!(event, wrap(expected.clone()), "{kind}");
        assert_eq!(event.kind(), kind);
    }
}

#[test]
fn documented_fields_and_alias() {
    let failed = parse("batch.failed", json!({"id": "b", "error_code": "INTERNAL", "error_message": "boom"}));
    let data = failed.data().unwrap();
    assert_eq!((data.error_code.as_deref(), data.error_message.as_deref()), (Some("INTERNAL"), Some("boom")));
    // Google's cookbook reads `data.video_uri`.
    let video =
        parse("video.generated", json!({"id": "op", "video_uri": "https://v", "file_name": "files/v"}));
    assert_eq!(video.data().unwrap().output_file_uri.as_deref(), Some("https://v"));
    assert_eq!(video.data().unwrap().file_name.as_deref(), Some("files/v"));
}

#[test]
fn envelope_metadata() {
    let body =
        br#"{"type":"batch.expired","version":"v1","timestamp":"2026-11-26T12:00:00Z","data":{"id":"b"}}"#;
    let envelope = Envelope::parse(body).unwrap();
    assert_eq!(envelope.version.as_deref(), Some("v1"));
    assert_eq!(envelope.timestamp.as_deref(), Some("2026-11-26T12:00:00Z"));
}

#[test]
fn unknown_type_is_kept_raw() {
    let event = parse("model.tuned", json!({"id": "t", "score": 3}));
    assert_eq!(event, Event::Unknown { kind: "model.tuned".into(), data: json!({"id": "t", "score": 3}) });
    assert_eq!(event.kind(), "model.tuned");
    assert!(event.data().is_none());
}

#[test]
fn not_an_envelope() {
    for body in [
        &b"not json"[..],
        b"[]",
        b"{}",
        br#"{"type":1}"#,
        b"\xff\xfe",
        br#"{"type":"batch.failed","data":{"id":5}}"#,
    ] {
        let error = Envelope::parse(body).unwrap_err();
        assert!(!error.reason().is_empty());
        assert!(error.to_string().starts_with("not a Gemini envelope"));
    }
    // Missing data is tolerated: the type alone is still useful.
    assert!(Envelope::parse(br#"{"type":"batch.cancelled"}"#).is_ok());
}
