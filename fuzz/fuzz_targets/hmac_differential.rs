//! The `v1` HMAC, built on SHA-256's compression function, against the
//! `hmac` crate (the oracle), through the public API: for any key, id,
//! timestamp, body and chunking, `sign` writes the oracle's tag, streaming
//! and one-shot verification accept it, and reject it for any other body.
#![no_main]

use arbitrary::Arbitrary;
use base64ct::{Base64, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use webhook_signature::{Headers, Timestamp, Webhook};

#[derive(Arbitrary, Debug)]
struct Input {
    key: Vec<u8>,
    id: String,
    timestamp: u64,
    body: Vec<u8>,
    chunks: Vec<u8>,
    flip: Option<(u16, u8)>,
}

fuzz_target!(|input: Input| {
    let Ok(webhook) = Webhook::from_key(&input.key) else {
        return assert!(input.key.is_empty());
    };
    let timestamp = Timestamp::from_unix_secs(input.timestamp);
    let mut oracle = <Hmac<Sha256> as KeyInit>::new_from_slice(&input.key).unwrap();
    oracle.update(format!("{}.{}.", input.id, input.timestamp).as_bytes());
    oracle.update(&input.body);
    let expected = format!("v1,{}", Base64::encode_string(&oracle.finalize().into_bytes()));
    match webhook.sign(&input.id, timestamp, &input.body) {
        Ok(signature) => assert_eq!(signature.as_str(), expected),
        Err(_) => return, // an id that cannot be signed (empty, `.`, control characters)
    }
    let ts = input.timestamp.to_string();
    let headers = Headers { id: &input.id, timestamp: &ts, signature: &expected };
    assert_eq!(webhook.verify_ignoring_timestamp(&headers, &input.body), Ok(()));
    let mut streaming = webhook.begin_ignoring_timestamp(&headers).unwrap();
    let mut rest = &input.body[..];
    for &chunk in &input.chunks {
        let (head, tail) = rest.split_at(usize::from(chunk).min(rest.len()));
        streaming.update(head);
        rest = tail;
    }
    streaming.update(rest);
    assert_eq!(streaming.finish(), Ok(()));
    if let Some((at, bit)) = input.flip {
        let mut other = input.body.clone();
        if other.is_empty() {
            other.push(bit);
        } else {
            let at = usize::from(at) % other.len();
            other[at] ^= 1 << (bit % 8);
        }
        assert!(webhook.verify_ignoring_timestamp(&headers, &other).is_err());
    }
});
