//! Arbitrary strings to `Webhook::new` never panic, and accepted `whsec_` or
//! bare secrets give the same key as an independent, naive base64 decoder.
//! Accepted `whsk_` keys derive the same public key as ed25519-dalek.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_signature::{MAX_KEY_LEN, Timestamp, Webhook};

fuzz_target!(|secret: &str| {
    let parsed = Webhook::new(secret);
    if let Some(encoded) = secret.strip_prefix("whsk_") {
        if let Ok(webhook) = &parsed {
            let bytes = naive_decode(encoded).expect("accepted whsk_ must be base64");
            let seed: [u8; 32] = bytes[..32].try_into().unwrap();
            let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
            assert_eq!(webhook.public_key(), Some(public));
        }
        return;
    }
    if secret.starts_with("whpk_") {
        return;
    }
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    let expected = naive_decode(encoded).filter(|key| !key.is_empty() && key.len() <= MAX_KEY_LEN);
    assert_eq!(parsed.is_ok(), expected.is_some(), "{secret:?}");
    if let (Ok(webhook), Some(key)) = (parsed, expected) {
        let reference = Webhook::from_key(&key).unwrap();
        let now = Timestamp::from_unix_secs(1);
        assert_eq!(webhook.sign("msg", now, b"body"), reference.sign("msg", now, b"body"));
    }
});

/// Standard base64, padding optional but exact when present, unused trailing
/// bits ignored: a bit accumulator, written independently of the library.
fn naive_decode(text: &str) -> Option<Vec<u8>> {
    let data = text.trim_end_matches('=');
    let pads = text.len() - data.len();
    if pads > 0 && (text.len() % 4 != 0 || pads > 2 || (data.len() + pads) % 4 != 0) {
        return None;
    }
    if data.len() % 4 == 1 {
        return None;
    }
    let (mut bits, mut count, mut out) = (0u32, 0, Vec::new());
    for c in data.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}
