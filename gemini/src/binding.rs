//! Whether a verified token also authenticates the body it came with.
//!
//! An RS256 token over claims that say nothing about the body proves only who
//! sent the request: anyone who sees one delivery can replay its token with
//! another body while it lives. So the body counts as authenticated only when a
//! claim pins it down.
//!
//! Two forms pin it, each only through a claim named for it: a digest of the
//! exact bytes (the strong form, and the only one whose mismatch is a
//! rejection), or the event itself embedded as a claim and equal to the
//! body's JSON. A claim of any other name binds nothing, whatever its value:
//! an embedded event's `data` member must not bind a body that is only that
//! `data`, and a digest of some other document must not bind that document. Comparing parsed JSON would invite
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

/// Claim names that embed the event itself, compared as
/// [`BODY_DIGEST_CLAIMS`] are. Such a claim binds the body when its value is
/// an object equal to the body's JSON (read as I-JSON); any other claim that
/// happens to equal the body binds nothing: a token embedding an event whose
/// `data` is also an object must not bind a body that is only that `data`.
pub const EMBEDDED_EVENT_CLAIMS: &[&str] =
    &["event", "payload", "body", "webhook_event", "webhook.event", "webhook.payload", "webhook.body"];

/// Which claims can bind the body.
#[derive(Clone, Debug, Default)]
pub(crate) enum BodyClaims {
    /// [`BODY_DIGEST_CLAIMS`] as digests, [`EMBEDDED_EVENT_CLAIMS`] as events.
    #[default]
    Known,
    /// Only these (normalised) names: a string is a digest, an object an event.
    Only(Vec<String>),
}

/// How a named claim would bind the body.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Digest,
    Event,
}

impl BodyClaims {
    pub(crate) fn only<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        Self::Only(names.into_iter().map(|name| normalize(&name.into())).collect())
    }

    /// How the claim `name` with `value` binds the body, if it can.
    fn form(&self, name: &str, value: &Value) -> Option<Form> {
        let name = normalize(name);
        let named = |list: &[&str]| list.iter().any(|known| normalize(known) == name);
        match self {
            Self::Known if named(BODY_DIGEST_CLAIMS) => Some(Form::Digest),
            Self::Known if named(EMBEDDED_EVENT_CLAIMS) => Some(Form::Event),
            Self::Known => None,
            Self::Only(names) if names.contains(&name) => {
                Some(if value.is_object() { Form::Event } else { Form::Digest })
            }
            Self::Only(_) => None,
        }
    }
}

/// Lower case, without the separators `_`, `-` and `.`.
fn normalize(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, '_' | '-' | '.')).flat_map(char::to_lowercase).collect()
}

/// Decides what the claims say about `body` (whose SHA-256 is `digest`),
/// among the top-level claims and the members of top-level objects, by name.
///
/// # Errors
/// [`Error::BodyMismatch`] if a digest claim holds anything but the body's digest.
pub(crate) fn body_binding(
    claims: &Map<String, Value>,
    body: &[u8],
    digest: &[u8; 32],
    names: &BodyClaims,
) -> Result<BodyBinding, Error> {
    let encodings = [
        Base64UrlUnpadded::encode_string(digest),
        Base64Url::encode_string(digest),
        Base64::encode_string(digest),
        Base64Unpadded::encode_string(digest),
    ];
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    let is_digest = |value: &Value| {
        value
            .as_str()
            .is_some_and(|text| encodings.iter().any(|e| e == text) || text.eq_ignore_ascii_case(&hex))
    };
    // Parsed only if a claim could embed it, and only as I-JSON.
    let body_json = std::cell::OnceCell::new();
    let embeds = |value: &Value| {
        value.is_object() && body_json.get_or_init(|| crate::ijson::parse(body)).as_ref() == Some(value)
    };
    // Every claim with its name (`parent.member` for nested ones) and form.
    let mut named: Vec<(String, &Value, Form)> = Vec::new();
    let mut add = |name: String, value| {
        if let Some(form) = names.form(&name, value) {
            named.push((name, value, form));
        }
    };
    for (name, value) in claims {
        add(name.clone(), value);
        if let Value::Object(members) = value {
            members.iter().for_each(|(inner, value)| add(format!("{name}.{inner}"), value));
        }
    }
    // A digest claim that names another body decides first, whatever else binds.
    if let Some((claim, ..)) =
        named.iter().find(|(_, value, form)| *form == Form::Digest && !is_digest(value))
    {
        tracing::debug!(%claim, "token's body digest claim does not match the body");
        return Err(Error::BodyMismatch);
    }
    let binds = |(_, value, form): &&(String, &Value, Form)| match form {
        Form::Digest => is_digest(value),
        Form::Event => embeds(value),
    };
    Ok(named
        .iter()
        .find(binds)
        .map_or(BodyBinding::BearerToken, |(claim, ..)| BodyBinding::Bound { claim: claim.clone() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sha2::{Digest, Sha256};

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn one(name: &str, value: Value) -> Map<String, Value> {
        Map::from_iter([(name.to_owned(), value)])
    }

    fn try_bind(claims: &Map<String, Value>, body: &[u8], names: &BodyClaims) -> Result<BodyBinding, Error> {
        let digest: [u8; 32] = Sha256::digest(body).into();
        super::body_binding(claims, body, &digest, names)
    }

    fn body_binding(claims: &Map<String, Value>, body: &[u8]) -> BodyBinding {
        try_bind(claims, body, &BodyClaims::Known).expect("no mismatched digest claim")
    }

    // SHA-256 of "abc": FIPS 180-2, appendix B.1.
    const ABC_HEX: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn hex_digest_binds() {
        let bound = body_binding(&claims(json!({"aud": "x", "body_sha256": ABC_HEX})), b"abc");
        assert_eq!(bound, BodyBinding::Bound { claim: "body_sha256".into() });
        let upper = body_binding(&claims(json!({"bodyHash": ABC_HEX.to_uppercase()})), b"abc");
        assert!(upper.is_bound());
    }

    #[test]
    fn base64_digests_bind() {
        for digest in
            ["ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="]
        {
            assert!(body_binding(&claims(json!({"payload_digest": digest})), b"abc").is_bound(), "{digest}");
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
    fn only_named_claims_bind() {
        // A digest under a name that does not say so: a value that merely looks like one decides nothing.
        assert_eq!(body_binding(&claims(json!({"d": ABC_HEX})), b"abc"), BodyBinding::BearerToken);
        assert_eq!(body_binding(&claims(json!({"d": ABC_HEX})), b"abd"), BodyBinding::BearerToken);
        // A token embedding an event, resent with the event's `data` as the body.
        let event = claims(json!({"event": {"type": "batch.succeeded", "data": {"id": "b1"}}}));
        assert_eq!(body_binding(&event, br#"{"id":"b1"}"#), BodyBinding::BearerToken);
        // The same event under a name not known to embed one.
        let other = claims(json!({"context": {"type": "batch.succeeded", "data": {"id": "b1"}}}));
        assert_eq!(
            body_binding(&other, br#"{"type":"batch.succeeded","data":{"id":"b1"}}"#),
            BodyBinding::BearerToken
        );
    }

    #[test]
    fn caller_named_claims() {
        let only = BodyClaims::only(["x-body"]);
        let bound = try_bind(&claims(json!({"X_Body": ABC_HEX, "body_sha256": "other"})), b"abc", &only);
        assert_eq!(bound, Ok(BodyBinding::Bound { claim: "X_Body".into() }), "body_sha256 is not named");
        assert_eq!(try_bind(&one("xbody", json!(ABC_HEX)), b"abd", &only), Err(Error::BodyMismatch));
        let event = claims(json!({"x_body": {"a": 1}}));
        assert!(try_bind(&event, br#"{"a":1}"#, &only).is_ok_and(|binding| binding.is_bound()));
        assert_eq!(try_bind(&event, br#"{"a":2}"#, &only), Ok(BodyBinding::BearerToken));
        assert_eq!(
            try_bind(&one("event", json!({"a": 1})), br#"{"a":1}"#, &only),
            Ok(BodyBinding::BearerToken)
        );
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
        let body = br#"{"type":"batch.succeeded","data":{"id":"b2"}}"#;
        let other = claims(json!({"event": {"type": "batch.succeeded", "data": {"id": "b1"}}}));
        assert_eq!(body_binding(&other, body), BodyBinding::BearerToken);
        assert_eq!(body_binding(&claims(json!({"aud": "x"})), b"abc"), BodyBinding::BearerToken);
    }

    #[test]
    fn a_digest_claim_for_another_body_is_a_mismatch() {
        let bind = |claims: &Map<String, Value>, body: &[u8]| try_bind(claims, body, &BodyClaims::Known);
        for name in ["body_sha256", "bodySha256", "BODY-HASH", "payload_sha256", "body_digest"] {
            assert_eq!(bind(&one(name, json!(ABC_HEX)), b"abd"), Err(Error::BodyMismatch), "{name}");
            assert!(bind(&one(name, json!(ABC_HEX)), b"abc").is_ok(), "{name}");
        }
        let nested = bind(&claims(json!({"webhook": {"sha256": ABC_HEX}})), b"abd");
        assert_eq!(nested, Err(Error::BodyMismatch));
        // Not a string, or empty: still named a digest, still not this body's.
        for value in [json!(1), json!(""), json!(null), json!([ABC_HEX])] {
            assert_eq!(
                bind(&claims(json!({"body_sha256": value})), b"abc"),
                Err(Error::BodyMismatch),
                "{value}"
            );
        }
        // A mismatch wins over another claim that binds.
        let both = claims(
            json!({"body_sha256": ABC_HEX, "body_hash": "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa1"}),
        );
        assert_eq!(bind(&both, b"abc"), Err(Error::BodyMismatch));
    }
}
