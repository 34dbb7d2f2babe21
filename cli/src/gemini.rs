//! Sample Gemini API webhook envelopes: `{"type", "version", "timestamp", "data"}`.

/// A sample delivery body for `event` (default `video.generated`), with the
/// `data` fields Google documents for that event type.
pub(crate) fn sample_envelope(event: &str) -> Vec<u8> {
    let data = match event {
        "video.generated" => serde_json::json!({
            "id": "models/veo-3.0-generate-001/operations/sample123",
            "output_file_uri": "https://generativelanguage.googleapis.com/v1beta/files/sample123:download",
            "file_name": "files/sample123",
        }),
        "batch.succeeded" => serde_json::json!({
            "id": "batches/sample123",
            "output_file_uri": "https://generativelanguage.googleapis.com/v1beta/files/batch-output:download",
        }),
        "batch.failed" | "interaction.failed" => serde_json::json!({
            "id": "batches/sample123",
            "error_code": "INTERNAL",
            "error_message": "sample failure",
        }),
        _ => serde_json::json!({ "id": "sample123" }),
    };
    let envelope = serde_json::json!({
        "type": event,
        "version": "v1",
        "timestamp": "2026-11-26T12:00:00Z",
        "data": data,
    });
    envelope.to_string().into_bytes()
}

/// The envelope's `type`, if the body is a JSON object that has one.
pub(crate) fn event_type(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("type")?.as_str().map(str::to_owned)
}
