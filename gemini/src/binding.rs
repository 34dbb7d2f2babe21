//! Whether a verified token also authenticates the body it came with.
//!
//! An RS256 token over claims that say nothing about the body proves only who
//! sent the request: anyone who sees one delivery can replay its token with
//! another body while it lives. So the body counts as authenticated only when a
//! claim pins it down.
//!
//! Two forms pin it: a digest of the exact bytes (the strong form, and the
//! only one whose mismatch is a rejection), or the event itself embedded as a
//! claim and equal to the body's JSON. Comparing parsed JSON would invite
//! parser differentials (duplicate names, integers past 2^53: the body binds
//! here while your application's parser reads other data), so the embedded
//! form binds only a body that is I-JSON ([RFC 7493], read in `ijson.rs`):
//! the subset every conforming parser reads the same. Any other body is
//! still accepted with a valid token, as [`BodyBinding::BearerToken`]. The
//! form is kept because Google does not document which claim, if any,
//! carries the body; the `claim` in [`BodyBinding::Bound`] says which form
//! bound it.
//!
//! [RFC 7493]: https://www.rfc-editor.org/rfc/rfc7493

use base64ct::{Base64, Base64Unpadded, Base64Url, Base64UrlUnpadded, Encoding};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::Error;

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

/// Claim names that say "this is a digest of the body", compared after
/// normalisation (lower case, without `_`, `-` and `.`), so `body_sha256`,
/// `bodySha256` and `body-sha256` are one name. A nested claim is named
/// `parent.member` (`webhook.sha256`).
///
/// Such a claim whose value is not the body's digest proves the token was made
/// for another body: the delivery is rejected ([`Error::BodyMismatch`]), never
/// treated as a token that says nothing about the body. Deciding by name, not
/// by the value's shape, matters: a random `jti` can look like a digest.
pub const BODY_DIGEST_CLAIMS: &[&str] = &[
    "body_sha256",
    "body_hash",
    "body_digest",
    "body_sha_256",
    "payload_sha256",
    "payload_hash",
    "payload_digest",
    "request_body_sha256",
    "webhook_body_sha256",
    "body.sha256",
    "body.hash",
    "body.digest",
    "payload.sha256",
    "payload.hash",
    "payload.digest",
    "webhook.sha256",
    "webhook.body_sha256",
];

/// Lower case, without the separators `_`, `-` and `.`.
fn normalize(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, '_' | '-' | '.')).flat_map(char::to_lowercase).collect()
}

fn names_a_body_digest(name: &str) -> bool {
    let name = normalize(name);
    BODY_DIGEST_CLAIMS.iter().any(|known| normalize(known) == name)
}

/// Decides what the claims say about `body`, among the top-level claims and
/// the members of top-level objects.
///
/// # Errors
/// [`Error::BodyMismatch`] if a claim named in [`BODY_DIGEST_CLAIMS`] holds
/// anything but the body's digest.
pub(crate) fn body_binding(claims: &Map<String, Value>, body: &[u8]) -> Result<BodyBinding, Error> {
    let digest: [u8; 32] = Sha256::digest(body).into();
    let encodings = [
        Base64UrlUnpadded::encode_string(&digest),
        Base64Url::encode_string(&digest),
        Base64::encode_string(&digest),
        Base64Unpadded::encode_string(&digest),
    ];
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    let is_digest = |text: &str| encodings.iter().any(|e| e == text) || text.eq_ignore_ascii_case(&hex);
    // Parsed only if a claim could embed it, and only as I-JSON.
    let body_json = std::cell::OnceCell::new();
    let binds = |value: &Value| match value {
        Value::String(text) => is_digest(text),
        Value::Object(_) => body_json.get_or_init(|| crate::ijson::parse(body)).as_ref() == Some(value),
        _ => false,
    };
    // Every claim with its name (`parent.member` for nested ones).
    let mut named: Vec<(String, &Value)> = Vec::new();
    for (name, value) in claims {
        named.push((name.clone(), value));
        if let Value::Object(members) = value {
            named.extend(members.iter().map(|(inner, value)| (format!("{name}.{inner}"), value)));
        }
    }
    // A digest claim that names another body decides first, whatever else binds.
    if let Some((claim, _)) = named.iter().find(|(name, value)| names_a_body_digest(name) && !binds(value)) {
        tracing::debug!(%claim, "token's body digest claim does not match the body");
        return Err(Error::BodyMismatch);
    }
    Ok(named
        .into_iter()
        .find(|(_, value)| binds(value))
        .map_or(BodyBinding::BearerToken, |(claim, _)| BodyBinding::Bound { claim }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn one(name: &str, value: Value) -> Map<String, Value> {
        Map::from_iter([(name.to_owned(), value)])
    }

    fn body_binding(claims: &Map<String, Value>, body: &[u8]) -> BodyBinding {
        super::body_binding(claims, body).expect("no mismatched digest claim")
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
    fn an_embedded_event_binds_only_i_json() {
        let event = claims(json!({"event": {"type": "batch.succeeded", "data": {"id": "b1", "n": 1}}}));
        // serde_json keeps the last `id`; a parser that keeps the first reads b0.
        let duplicate = br#"{"type":"batch.succeeded","data":{"id":"b0","id":"b1","n":1}}"#;
        assert_eq!(body_binding(&event, duplicate), BodyBinding::BearerToken);
        // 2^53 + 1 reads as 2^53 in a double parser, and as itself elsewhere.
        let big = claims(json!({"event": {"n": 9_007_199_254_740_993_u64}}));
        assert_eq!(body_binding(&big, br#"{"n":9007199254740993}"#), BodyBinding::BearerToken);
        let exact = br#"{"type":"batch.succeeded","data":{"id":"b1","n":1.0e0}}"#;
        assert!(!body_binding(&event, exact).is_bound(), "1.0 is a float, not the integer 1");
        let spaced = b" {\"data\": {\"n\": 1, \"id\": \"b1\"}, \"type\": \"batch.succeeded\"}\n";
        assert!(body_binding(&event, spaced).is_bound());
    }

    #[test]
    fn other_body_is_bearer() {
        // `d` is not a digest's name: a value that merely looks like one decides nothing.
        assert_eq!(body_binding(&claims(json!({"d": ABC_HEX})), b"abd"), BodyBinding::BearerToken);
        let body = br#"{"type":"batch.succeeded","data":{"id":"b2"}}"#;
        let other = claims(json!({"event": {"type": "batch.succeeded", "data": {"id": "b1"}}}));
        assert_eq!(body_binding(&other, body), BodyBinding::BearerToken);
        assert_eq!(body_binding(&claims(json!({"aud": "x"})), b"abc"), BodyBinding::BearerToken);
    }

    #[test]
    fn a_digest_claim_for_another_body_is_a_mismatch() {
        for name in ["body_sha256", "bodySha256", "BODY-HASH", "payload_sha256", "body_digest"] {
            let mismatch = super::body_binding(&one(name, json!(ABC_HEX)), b"abd");
            assert_eq!(mismatch, Err(Error::BodyMismatch), "{name}");
            assert!(super::body_binding(&one(name, json!(ABC_HEX)), b"abc").is_ok(), "{name}");
        }
        let nested = super::body_binding(&claims(json!({"webhook": {"sha256": ABC_HEX}})), b"abd");
        assert_eq!(nested, Err(Error::BodyMismatch));
        // Not a string, or empty: still named a digest, still not this body's.
        for value in [json!(1), json!(""), json!(null), json!([ABC_HEX])] {
            let mismatch = super::body_binding(&claims(json!({"body_sha256": value})), b"abc");
            assert_eq!(mismatch, Err(Error::BodyMismatch), "{value}");
        }
        // A mismatch wins over another claim that happens to bind.
        let both = claims(json!({"h": ABC_HEX, "body_hash": "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa1"}));
        assert_eq!(super::body_binding(&both, b"abc"), Err(Error::BodyMismatch));
    }
}
