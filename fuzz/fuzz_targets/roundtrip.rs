//! Sign then verify succeeds; changing any one byte of the id, timestamp, body
//! or signature makes verification fail.
#![no_main]

use arbitrary::Arbitrary;
use base64ct::{Base64, Encoding};
use libfuzzer_sys::fuzz_target;
use webhook_signature::{Headers, Timestamp, Webhook};

#[derive(Arbitrary, Debug)]
struct Input {
    key: Vec<u8>,
    ed25519: Option<[u8; 32]>,
    id: String,
    timestamp: u64,
    body: Vec<u8>,
    field: u8,
    position: u16,
    xor: u8,
}

fuzz_target!(|input: Input| {
    let webhook = match input.ed25519 {
        Some(seed) => Webhook::new(&format!("whsk_{}", Base64::encode_string(&seed))).unwrap(),
        None => match Webhook::from_key(&input.key) {
            Ok(webhook) => webhook,
            Err(_) => return,
        },
    };
    let now = Timestamp::from_unix_secs(input.timestamp);
    let Ok(signature) = webhook.sign(&input.id, now, &input.body) else {
        // Only ids the spec forbids are refused.
        assert!(input.id.is_empty() || input.id.bytes().any(|b| b == b'.' || b.is_ascii_control()));
        return;
    };
    let timestamp = input.timestamp.to_string();
    let signature = signature.to_string();
    let headers = Headers { id: &input.id, timestamp: &timestamp, signature: &signature };
    assert_eq!(webhook.verify(&headers, &input.body, now), Ok(()));

    let xor = input.xor.max(1);
    let (mut id, mut ts, mut sig, mut body) =
        (input.id.clone().into_bytes(), timestamp.into_bytes(), signature.into_bytes(), input.body.clone());
    let target = match input.field % 4 {
        0 => &mut id,
        1 => &mut ts,
        2 => &mut sig,
        _ => &mut body,
    };
    if target.is_empty() {
        return;
    }
    let at = usize::from(input.position) % target.len();
    target[at] ^= xor;
    let (Ok(id), Ok(ts), Ok(sig)) = (String::from_utf8(id), String::from_utf8(ts), String::from_utf8(sig))
    else {
        return; // not text: could never arrive as a header
    };
    let headers = Headers { id: &id, timestamp: &ts, signature: &sig };
    assert!(webhook.verify_ignoring_timestamp(&headers, &body).is_err(), "a changed delivery verified");
    assert!(webhook.verify(&headers, &body, now).is_err(), "a changed delivery verified");
});
