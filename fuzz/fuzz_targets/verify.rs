//! Arbitrary key, headers, body, clock and tolerance through `verify`,
//! `verify_ignoring_timestamp` and streaming with arbitrary chunking: never a
//! panic, streaming agrees with one-shot, and every accepted delivery is
//! confirmed by an independent recomputation (the `hmac` crate for `v1`,
//! ed25519-dalek's `verify_strict` for `v1a`).
#![no_main]

use arbitrary::Arbitrary;
use base64ct::{Base64, Encoding};
use core::time::Duration;
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use webhook_signature::{Headers, Signatures, Timestamp, Webhook};

#[derive(Arbitrary, Debug)]
enum Key {
    Hmac(Vec<u8>),
    Ed25519Seed([u8; 32]),
}

#[derive(Arbitrary, Debug)]
struct Input {
    key: Key,
    id: String,
    timestamp: String,
    /// Entries of the signature header; a genuine signature is inserted at
    /// `genuine_at` so that acceptance paths are reached too.
    entries: Vec<String>,
    genuine_at: Option<u8>,
    body: Vec<u8>,
    now: u64,
    tolerance: u64,
    chunks: Vec<u16>,
}

fuzz_target!(|input: Input| {
    let (webhook, verifier) = match &input.key {
        Key::Hmac(bytes) => match Webhook::from_key(bytes) {
            Ok(key) => (key.clone(), key),
            Err(_) => return assert!(bytes.is_empty()),
        },
        Key::Ed25519Seed(seed) => {
            let secret = Webhook::new(&format!("whsk_{}", Base64::encode_string(seed))).unwrap();
            let public = format!("whpk_{}", Base64::encode_string(&secret.public_key().unwrap()));
            (secret, Webhook::new(&public).unwrap())
        }
    };
    let verifier = verifier.with_tolerance(Duration::from_secs(input.tolerance));
    let mut entries = input.entries.clone();
    if let (Some(at), Ok(ts)) = (input.genuine_at, Timestamp::parse(&input.timestamp)) {
        if let Ok(signature) = webhook.sign(&input.id, ts, &input.body) {
            entries.insert(usize::from(at) % (entries.len() + 1), signature.to_string());
        }
    }
    let signature = entries.join(" ");
    let headers = Headers { id: &input.id, timestamp: &input.timestamp, signature: &signature };
    let now = Timestamp::from_unix_secs(input.now);

    let one_shot = verifier.verify(&headers, &input.body, now);
    let ignoring = verifier.verify_ignoring_timestamp(&headers, &input.body);
    let streamed = verifier.begin(&headers, now).and_then(|mut verification| {
        let mut rest = &input.body[..];
        for &chunk in &input.chunks {
            let (head, tail) = rest.split_at(usize::from(chunk).min(rest.len()));
            verification.update(head);
            rest = tail;
        }
        verification.update(rest);
        verification.finish()
    });
    assert_eq!(one_shot, streamed);
    // Rotation agrees: alone, and after nine keys that match nothing (a second scan of the header).
    assert_eq!(
        Webhook::verify_any(core::slice::from_ref(&verifier), &headers, &input.body, now),
        one_shot.map(|()| 0)
    );
    let mut keys: Vec<Webhook> = (0..9u8).map(|i| Webhook::from_key(&[i, 0xa5]).unwrap()).collect();
    keys.push(verifier.clone());
    if let Ok(index) = Webhook::verify_any(&keys, &headers, &input.body, now) {
        assert!(index == 9 || independently_valid_for(&[index as u8, 0xa5], &input, &signature));
    } else {
        assert!(one_shot.is_err());
    }
    if one_shot.is_ok() {
        assert_eq!(ignoring, Ok(()));
    }
    if one_shot.is_ok() || ignoring.is_ok() {
        assert!(independently_valid(&input, &signature), "accepted without a genuine entry");
    }
});

/// Whether some entry of the header is, by an independent computation, the
/// signature of `{id}.{timestamp}.{body}` under the input's key.
fn independently_valid(input: &Input, header: &str) -> bool {
    let content = [input.id.as_bytes(), b".", input.timestamp.as_bytes(), b".", &input.body].concat();
    match &input.key {
        Key::Hmac(key) => independently_valid_for(key, input, header),
        Key::Ed25519Seed(seed) => {
            let public = ed25519_dalek::SigningKey::from_bytes(seed).verifying_key();
            Signatures::new(header).any(|entry| {
                let Ok(raw) = Base64::decode_vec(entry.value) else { return false };
                let Ok(raw) = <[u8; 64]>::try_from(raw) else { return false };
                let signature = ed25519_dalek::Signature::from_bytes(&raw);
                entry.version == "v1a" && public.verify_strict(&content, &signature).is_ok()
            })
        }
    }
}

/// Whether some `v1` entry is, by the `hmac` crate, the signature under `key`.
fn independently_valid_for(key: &[u8], input: &Input, header: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(&[input.id.as_bytes(), b".", input.timestamp.as_bytes(), b".", &input.body].concat());
    let expected = Base64::encode_string(&mac.finalize().into_bytes());
    Signatures::new(header).any(|entry| entry.version == "v1" && entry.value == expected)
}
