//! Known-answer vectors from the reference libraries, svix, webhook-verify and Brex.
// Test helpers: a failed unwrap or index is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use common::{BREX, V1_VECTORS};
use webhook_signature::Webhook;

#[test]
fn sign_reproduces_every_v1_vector() {
    for (i, vector) in V1_VECTORS.iter().enumerate() {
        let webhook = Webhook::new(vector.secret).unwrap();
        let signature = webhook.sign(vector.id, vector.now(), &vector.payload.to_vec()).unwrap();
        assert_eq!(signature.as_str(), vector.signature, "#{i}: {}", vector.source);
        assert_eq!(signature.to_string(), vector.signature, "#{i}: Display");
    }
}

/// A `Signature` reads the same through `as_str`, `AsRef<str>`, `Display`
/// and `Debug` (signatures are public, so it prints in full).
#[test]
fn a_signature_reads_the_same_every_way() {
    let vector = &V1_VECTORS[0];
    let signature =
        Webhook::new(vector.secret).unwrap().sign(vector.id, vector.now(), &vector.payload.to_vec()).unwrap();
    let text: &str = signature.as_ref();
    assert_eq!(text, signature.as_str());
    assert_eq!(signature.to_string(), signature.as_str());
    assert_eq!(format!("{signature:?}"), format!("Signature({:?})", signature.as_str()));
}

#[test]
fn verify_accepts_every_v1_vector() {
    for (i, vector) in V1_VECTORS.iter().chain([&BREX]).enumerate() {
        let webhook = Webhook::new(vector.secret).unwrap();
        let payload = vector.payload.to_vec();
        let result = webhook.verify(&vector.headers(), &payload, vector.now());
        assert_eq!(result, Ok(()), "#{i}: {}", vector.source);
        let result = webhook.verify_ignoring_timestamp(&vector.headers(), &payload);
        assert_eq!(result, Ok(()), "#{i}: {} ignoring timestamp", vector.source);
    }
}

#[test]
fn brex_decoy_alone_is_rejected() {
    let webhook = Webhook::new(BREX.secret).unwrap();
    let decoy = BREX.signature.split(' ').nth(1).unwrap();
    let headers = webhook_signature::Headers { signature: decoy, ..BREX.headers() };
    let payload = BREX.payload.to_vec();
    assert_eq!(
        webhook.verify(&headers, &payload, BREX.now()),
        Err(webhook_signature::Error::NoMatchingSignature)
    );
}

/// `tests/fixtures/vectors.json` is the JSON form of the literal-payload `v1`
/// vectors, for the JavaScript test of the wasm module. It is derived from
/// `tests/common/mod.rs`, the one place fixtures are kept, and must match it;
/// `UPDATE_FIXTURES=1 cargo test --test vectors` rewrites it.
#[test]
fn json_fixtures_match_the_rust_vectors() {
    let json_string = |text: &str| {
        let mut out = String::from("\"");
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
        out + "\""
    };
    let entries: Vec<String> = V1_VECTORS
        .iter()
        .chain([&BREX])
        .filter_map(|v| match v.payload {
            common::Payload::Bytes(bytes) => {
                let payload = core::str::from_utf8(bytes).ok()?;
                Some(format!(
                    "  {{ \"source\": {}, \"secret\": {}, \"id\": {}, \"timestamp\": {}, \"payload\": {}, \"signature\": {} }}",
                    json_string(v.source),
                    json_string(v.secret),
                    json_string(v.id),
                    json_string(v.timestamp),
                    json_string(payload),
                    json_string(v.signature)
                ))
            }
            common::Payload::Repeat(..) => None,
        })
        .collect();
    let expected = format!("[\n{}\n]\n", entries.join(",\n"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors.json");
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(path, &expected).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(path).unwrap_or_default(),
        expected,
        "run UPDATE_FIXTURES=1 cargo test --test vectors"
    );
}
