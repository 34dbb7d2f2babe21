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

/// The envelope's `type`, if the body is a JSON object that has one, safe to
/// print: the body is read before it is verified, so a `type` holding
/// terminal escape sequences or line breaks would otherwise reach the
/// operator's terminal. Anything but visible ASCII is escaped (`\u{1b}`),
/// and a long one is cut at 128 characters.
pub(crate) fn event_type(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = value.get("type")?.as_str()?;
    let mut shown: String = text.chars().take(128).map(visible).collect();
    if text.chars().nth(128).is_some() {
        shown.push_str("...");
    }
    Some(shown)
}

/// `c` itself if it is visible ASCII, else its escape (`\u{1b}`).
fn visible(c: char) -> String {
    if c.is_ascii_graphic() { c.to_string() } else { c.escape_unicode().to_string() }
}

#[cfg(test)]
mod tests {
    use super::event_type;

    #[test]
    fn an_event_type_is_printable_whatever_the_body_holds() {
        assert_eq!(event_type(br#"{"type":"video.generated"}"#).as_deref(), Some("video.generated"));
        // An escape sequence that would clear the terminal, and a line break.
        let hostile = br#"{"type":"\u001b[2J\nmsg_fake video.generated 204: valid"}"#;
        let shown = event_type(hostile).unwrap();
        assert!(shown.chars().all(|c| c.is_ascii_graphic()), "{shown}");
        assert!(shown.starts_with(r"\u{1b}[2J\u{a}msg_fake"), "{shown}");
        let long = format!(r#"{{"type":"{}"}}"#, "a".repeat(500));
        assert_eq!(event_type(long.as_bytes()).unwrap(), format!("{}...", "a".repeat(128)));
        assert_eq!(event_type(br#"{"type":7}"#), None);
        assert_eq!(event_type(b"not json"), None);
    }
}
