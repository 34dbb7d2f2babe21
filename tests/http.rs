//! The `http1` adapter: case-insensitive names, Svix aliases, duplicates and non-ASCII values.
#![cfg(feature = "http1")]
// Test helpers: a failed unwrap or index is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use common::{ID, NOW, PAYLOAD, SECRET, SIGNATURE, TIMESTAMP};
use http::{HeaderMap, HeaderValue};
use webhook_signature::{Error, HeaderName, Headers, Webhook};

fn map(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_bytes(value).unwrap());
    }
    map
}

fn verify(map: &HeaderMap) -> Result<(), Error> {
    Webhook::new(SECRET).unwrap().verify_header_map(map, PAYLOAD, NOW)
}

#[test]
fn names_are_case_insensitive() {
    let upper = map(&[
        ("WEBHOOK-ID", ID.as_bytes()),
        ("Webhook-Timestamp", TIMESTAMP.as_bytes()),
        ("webhook-SIGNATURE", SIGNATURE.as_bytes()),
    ]);
    assert_eq!(Headers::from_header_map(&upper).unwrap(), common::headers());
    assert_eq!(verify(&upper), Ok(()));
}

#[test]
fn svix_aliases_fill_only_missing_headers() {
    let svix = map(&[
        ("svix-id", ID.as_bytes()),
        ("svix-timestamp", TIMESTAMP.as_bytes()),
        ("svix-signature", SIGNATURE.as_bytes()),
    ]);
    assert_eq!(verify(&svix), Ok(()));
    let both = map(&[
        ("webhook-id", ID.as_bytes()),
        ("svix-id", b"msg_other"),
        ("svix-timestamp", TIMESTAMP.as_bytes()),
        ("webhook-signature", SIGNATURE.as_bytes()),
        ("svix-signature", b"v1,wrong"),
    ]);
    let headers = Headers::from_header_map(&both).unwrap();
    assert_eq!((headers.id, headers.signature), (ID, SIGNATURE));
    assert_eq!(verify(&both), Ok(()));
}

#[test]
fn missing_duplicate_and_non_ascii_headers_are_precise_errors() {
    let missing = map(&[("webhook-id", ID.as_bytes()), ("webhook-signature", SIGNATURE.as_bytes())]);
    assert_eq!(verify(&missing), Err(Error::MissingHeader(HeaderName::Timestamp)));
    let duplicate = map(&[
        ("webhook-id", ID.as_bytes()),
        ("webhook-timestamp", TIMESTAMP.as_bytes()),
        ("webhook-signature", SIGNATURE.as_bytes()),
        ("webhook-signature", b"v1,other"),
    ]);
    assert_eq!(verify(&duplicate), Err(Error::InvalidHeader(HeaderName::Signature)));
    let duplicate_alias = map(&[("svix-id", b"a"), ("svix-id", b"b")]);
    assert_eq!(Headers::from_header_map(&duplicate_alias), Err(Error::InvalidHeader(HeaderName::Id)));
    let non_ascii = map(&[
        ("webhook-id", "msg_é".as_bytes()),
        ("webhook-timestamp", TIMESTAMP.as_bytes()),
        ("webhook-signature", SIGNATURE.as_bytes()),
    ]);
    assert_eq!(verify(&non_ascii), Err(Error::InvalidHeader(HeaderName::Id)));
    assert_eq!(Error::InvalidHeader(HeaderName::Id).to_string(), "invalid webhook-id header");
}
