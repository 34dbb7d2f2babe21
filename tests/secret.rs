//! Secret parsing: prefix, padding, non-canonical bits, sizes, and the redacted `Debug`.
// Test helpers: a failed unwrap or index is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use common::{PAYLOAD, SECRET};
use webhook_signature::{Error, MAX_KEY_LEN, Webhook};

/// The signature a secret produces for A1's delivery, to compare keys by behaviour.
fn sign_with(secret: &str) -> String {
    let webhook = Webhook::new(secret).unwrap();
    webhook.sign(common::ID, common::NOW, PAYLOAD).unwrap().to_string()
}

fn base64(bytes: &[u8]) -> String {
    use base64ct::{Base64, Encoding};
    Base64::encode_string(bytes)
}

#[test]
fn prefix_is_optional() {
    assert_eq!(sign_with(SECRET), sign_with(SECRET.trim_start_matches("whsec_")));
}

#[test]
fn padding_is_optional_but_must_be_right() {
    // "a2V5" = "key"; "a2V5MQ" = "key1" (needs "=="); "a2V5MTI" = "key12" (needs "=").
    let same = [("a2V5MQ", "a2V5MQ=="), ("a2V5MTI", "a2V5MTI=")];
    for (i, (bare, padded)) in same.iter().enumerate() {
        assert_eq!(sign_with(bare), sign_with(padded), "#{i}");
        assert_eq!(sign_with(bare), sign_with(&format!("whsec_{padded}")), "#{i}");
    }
    let from_key = Webhook::from_key(b"key1").unwrap();
    let expected = from_key.sign(common::ID, common::NOW, PAYLOAD).unwrap().to_string();
    assert_eq!(sign_with("a2V5MQ"), expected);
}

#[test]
fn malformed_secrets_are_rejected() {
    let long = "A".repeat((MAX_KEY_LEN + 3) / 3 * 4);
    let bad = [
        "",
        "whsec_",
        "whsec_=",
        "====",
        "a2V5MQ=",      // one '=' short
        "a2V5MQ===",    // one '=' too many
        "a2V5MTI==",    // "key12" takes one '='
        "a2V5====",     // a full quantum takes none
        "a2V5M",        // 5 characters cannot be base64
        "a2V5MQ==a2V5", // padding in the middle
        "a2V5 MQ==",
        " a2V5",
        "a2V5\n",
        "a2V5-_", // URL-safe alphabet
        "whsec_a2V5!",
        "WHSEC_a2V5", // the prefix is case-sensitive, and '_' is not base64
        "whsec_whsec_a2V5",
        "é2V5",
        &long,
    ];
    for (i, secret) in bad.iter().enumerate() {
        assert_eq!(Webhook::new(secret).unwrap_err(), Error::InvalidSecret, "#{i}: {secret:?}");
    }
    assert_eq!(Webhook::from_key(b"").unwrap_err(), Error::InvalidSecret);
}

#[test]
fn non_canonical_trailing_bits_are_ignored() {
    // "MQ" and "MR" both decode to "1": 'R' differs from 'Q' only in unused bits.
    assert_eq!(sign_with("a2V5MR"), sign_with("a2V5MQ"));
    assert_eq!(sign_with("a2V5MR=="), sign_with("a2V5MQ=="));
    assert_eq!(sign_with("a2V5MTJ="), sign_with("a2V5MTI="));
}

#[test]
fn short_and_large_keys_work() {
    // No minimum length: a one-byte key, and keys up to MAX_KEY_LEN on the stack.
    assert_eq!(
        sign_with(&base64(b"k")),
        Webhook::from_key(b"k").unwrap().sign(common::ID, common::NOW, PAYLOAD).unwrap().to_string()
    );
    for len in [63, 64, 65, 1024, MAX_KEY_LEN] {
        let key: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let expected =
            Webhook::from_key(&key).unwrap().sign(common::ID, common::NOW, PAYLOAD).unwrap().to_string();
        assert_eq!(sign_with(&format!("whsec_{}", base64(&key))), expected, "len {len}");
    }
    let too_long = base64(&vec![1u8; MAX_KEY_LEN + 1]);
    assert_eq!(Webhook::new(&too_long).unwrap_err(), Error::InvalidSecret);
}

#[test]
fn debug_never_prints_the_key() {
    let webhook = Webhook::new(SECRET).unwrap();
    let debug = format!("{webhook:?} {webhook:#?}");
    assert!(debug.contains("[REDACTED]"));
    assert!(!debug.contains("MfKQ"));
}
