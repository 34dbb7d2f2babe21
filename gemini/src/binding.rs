//! Whether a verified token also authenticates the body it came with.
//!
//! An RS256 token over claims that say nothing about the body proves only who
//! sent the request: anyone who sees one delivery can replay its token with
//! another body while it lives. So the body counts as authenticated only when a
//! claim pins it down.

use base64ct::{Base64, Base64Unpadded, Base64Url, Base64UrlUnpadded, Encoding};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// What a verified dynamic token says about the body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyBinding {
    /// A claim binds the body: its value is the SHA-256 of the raw body
    /// (base64url, base64 or hex), or it embeds the event and equals the
    /// body's JSON.
    Bound {
        /// The claim that binds it.
        claim: String,
    },
    /// No claim binds the body: it arrived with a valid bearer token, which is
    /// all that Google's own sample checks. The sender is authenticated; the
    /// body is not.
    BearerToken,
}

impl BodyBinding {
    /// Whether the body itself was authenticated.
    #[must_use]
    pub fn is_bound(&self) -> bool {
        matches!(self, Self::Bound { .. })
    }
}

/// Finds a claim that binds `body`, among the top-level claims and the
/// members of top-level objects.
pub(crate) fn body_binding(claims: &Map<String, Value>, body: &[u8]) -> BodyBinding {
    let digest: [u8; 32] = Sha256::digest(body).into();
    let encodings = [
        Base64UrlUnpadded::encode_string(&digest),
        Base64Url::encode_string(&digest),
        Base64::encode_string(&digest),
        Base64Unpadded::encode_string(&digest),
    ];
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    let is_digest = |text: &str| encodings.iter().any(|e| e == text) || text.eq_ignore_ascii_case(&hex);
    let body_json: Option<Value> = serde_json::from_slice(body).ok();
    let binds = |value: &Value| match value {
        Value::String(text) => is_digest(text),
        Value::Object(_) => body_json.as_ref() == Some(value),
        _ => false,
    };
    for (name, value) in claims {
        if binds(value) {
            return BodyBinding::Bound { claim: name.clone() };
        }
        if let Value::Object(members) = value
            && let Some((inner, _)) = members.iter().find(|(_, value)| binds(value))
        {
            return BodyBinding::Bound { claim: format!("{name}.{inner}") };
        }
    }
    BodyBinding::BearerToken
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    // SHA-256 of "abc": FIPS 180-2, appendix B.1.
    const ABC_HEX: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn hex_digest_binds() {
        let bound = body_binding(&claims(json!({"aud": "x", "body_sha256": ABC_HEX})), b"abc");
        assert_eq!(bound, BodyBinding::Bound { claim: "body_sha256".into() });
        let upper = body_binding(&claims(json!({"h": ABC_HEX.to_uppercase()})), b"abc");
        assert!(upper.is_bound());
    }

    #[test]
    fn base64_digests_bind() {
        for digest in
            ["ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="]
        {
            assert!(body_binding(&claims(json!({"d": digest})), b"abc").is_bound(), "{digest}");
        }
    }

    #[test]
    fn nested_and_embedded() {
        let nested = body_binding(&claims(json!({"webhook": {"sha256": ABC_HEX}})), b"abc");
        assert_eq!(nested, BodyBinding::Bound { claim: "webhook.sha256".into() });
        let body = br#"{"type":"batch.succeeded","data":{"id":"b1"}}"#;
        let embedded =
            body_binding(&claims(json!({"event": {"data": {"id": "b1"}, "type": "batch.succeeded"}})), body);
        assert_eq!(embedded, BodyBinding::Bound { claim: "event".into() });
    }

    #[test]
    fn other_body_is_bearer() {
        assert_eq!(body_binding(&claims(json!({"d": ABC_HEX})), b"abd"), BodyBinding::BearerToken);
        let body = br#"{"type":"batch.succeeded","data":{"id":"b2"}}"#;
        let other = claims(json!({"event": {"type": "batch.succeeded", "data": {"id": "b1"}}}));
        assert_eq!(body_binding(&other, body), BodyBinding::BearerToken);
        assert_eq!(body_binding(&claims(json!({"aud": "x"})), b"abc"), BodyBinding::BearerToken);
    }
}
