//! Where we decide differently from the `standardwebhooks` and `svix` crates
//! on purpose: one test per case that `fuzz/fuzz_targets/differential.rs`
//! models in `intended_difference`. (The peers never become dependencies of
//! the core, so each test shows our side; the peers' side is quoted.)
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use common::{ID, NOW, PAYLOAD, SECRET, SIGNATURE};
use webhook_signature::{Error, HeaderName, Headers, Timestamp, Webhook};

/// Both peers call `std::str::from_utf8(payload)` and fail with
/// `InvalidPayload`; the spec signs bytes, and so do we.
#[test]
fn non_utf8_bodies_are_verified_as_bytes() {
    let webhook = Webhook::new(SECRET).unwrap();
    let body = b"\xff\xfe binary \x00";
    let signature = webhook.sign(ID, NOW, body).unwrap().to_string();
    let headers = Headers { id: ID, timestamp: "1614265330", signature: &signature };
    assert_eq!(webhook.verify(&headers, body, NOW), Ok(()));
}

/// Both peers parse the timestamp with `str::parse::<i64>` and sign its
/// rendering, so `+1614265330` and `01614265330` are signed as `1614265330`.
/// We accept plain digits only and hash the text exactly as received.
#[test]
fn timestamps_are_plain_digits_hashed_as_received() {
    let webhook = Webhook::new(SECRET).unwrap();
    fn signed(timestamp: &str) -> Headers<'_> {
        Headers { id: ID, timestamp, signature: SIGNATURE }
    }
    assert_eq!(webhook.verify(&signed("+1614265330"), PAYLOAD, NOW), Err(Error::InvalidTimestamp));
    assert_eq!(webhook.verify(&signed("-1614265330"), PAYLOAD, NOW), Err(Error::InvalidTimestamp));
    // SIGNATURE covers "1614265330": with a leading zero the text differs, so it does not match.
    assert_eq!(webhook.verify(&signed("01614265330"), PAYLOAD, NOW), Err(Error::NoMatchingSignature));
}

/// The peers sign an empty `webhook-id` as `.{timestamp}.{body}`; every header
/// must be non-empty for us.
#[test]
fn an_empty_id_is_a_missing_header() {
    let webhook = Webhook::new(SECRET).unwrap();
    let headers = Headers { id: "", timestamp: "1614265330", signature: SIGNATURE };
    assert_eq!(webhook.verify(&headers, PAYLOAD, NOW), Err(Error::MissingHeader(HeaderName::Id)));
}

/// The peers decode secrets with `base64`'s strict STANDARD engine; we accept
/// a missing `=` and unused trailing bits, as the reference libraries in other
/// languages do (vectors A4), and refuse an empty key.
#[test]
fn secrets_are_decoded_leniently_but_never_empty() {
    let padded = Webhook::new("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRY=").unwrap(); // 23 bytes
    let unpadded = Webhook::new("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRY").unwrap();
    let now = Timestamp::from_unix_secs(1);
    assert_eq!(
        padded.sign(ID, now, PAYLOAD).unwrap().as_str(),
        unpadded.sign(ID, now, PAYLOAD).unwrap().as_str()
    );
    assert_eq!(Webhook::new("whsec_").err(), Some(Error::InvalidSecret));
}

/// The peers compare base64 text with the canonical encoding; we decode the
/// candidate and require the canonical encoding too, so a candidate with its
/// unused trailing bits set is refused by all three (no difference).
#[test]
fn non_canonical_candidates_are_refused() {
    let webhook = Webhook::new(SECRET).unwrap();
    // Set the two unused low bits of the last sextet (before the '=').
    let value = SIGNATURE.strip_prefix("v1,").unwrap();
    let last = value.as_bytes()[value.len() - 2];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let index = alphabet.iter().position(|&c| c == last).unwrap();
    let noncanonical = alphabet[index | 0b11] as char;
    assert_ne!(noncanonical as u8, last, "the canonical character has its unused bits clear");
    let mangled = format!("v1,{}{noncanonical}=", &value[..value.len() - 2]);
    let headers = Headers { id: ID, timestamp: "1614265330", signature: &mangled };
    assert_eq!(webhook.verify(&headers, PAYLOAD, NOW), Err(Error::NoMatchingSignature));
}
