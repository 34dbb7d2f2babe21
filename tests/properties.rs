//! Property tests: round trips, single-bit changes, arbitrary headers, arbitrary chunkings.
// Test helpers: a failed unwrap or index is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use base64ct::{Base64, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use proptest::prelude::*;
use sha2::Sha256;
use webhook_signature::{Error, Headers, Timestamp, Webhook};

/// An independent signature: the `hmac` crate over the spec's content.
fn reference_signature(key: &[u8], id: &str, timestamp: &str, payload: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(payload);
    format!("v1,{}", Base64::encode_string(&mac.finalize().into_bytes()))
}

fn id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,40}"
}

fn flip_bit(bytes: &mut [u8], bit: usize) {
    let bit = bit % (bytes.len() * 8);
    bytes[bit / 8] ^= 1 << (bit % 8);
}

proptest! {
    #[test]
    fn sign_then_verify_round_trips(key in prop::collection::vec(any::<u8>(), 1..200), id in id(),
                                    secs in any::<u64>(), payload in prop::collection::vec(any::<u8>(), 0..600)) {
        let webhook = Webhook::from_key(&key).unwrap();
        let signature = webhook.sign(&id, Timestamp::from_unix_secs(secs), &payload).unwrap();
        let timestamp = secs.to_string();
        prop_assert_eq!(signature.as_str(), reference_signature(&key, &id, &timestamp, &payload));
        let headers = Headers { id: &id, timestamp: &timestamp, signature: signature.as_str() };
        prop_assert_eq!(webhook.verify(&headers, &payload, Timestamp::from_unix_secs(secs)), Ok(()));
        prop_assert_eq!(webhook.verify_ignoring_timestamp(&headers, &payload), Ok(()));
        let secret = format!("whsec_{}", Base64::encode_string(&key));
        prop_assert_eq!(Webhook::new(&secret).unwrap().verify(&headers, &payload, Timestamp::from_unix_secs(secs)), Ok(()));
    }

    #[test]
    fn any_single_bit_change_fails(key in prop::collection::vec(any::<u8>(), 1..64), id in id(),
                                   secs in 1_000_000_000u64..2_000_000_000, payload in prop::collection::vec(any::<u8>(), 1..300),
                                   field in 0usize..4, bit in any::<usize>()) {
        let webhook = Webhook::from_key(&key).unwrap();
        let now = Timestamp::from_unix_secs(secs);
        let signature = webhook.sign(&id, now, &payload).unwrap().to_string();
        let (mut id, mut timestamp, mut signature, mut payload) =
            (id.into_bytes(), secs.to_string().into_bytes(), signature.into_bytes(), payload);
        match field {
            0 => flip_bit(&mut id, bit),
            1 => flip_bit(&mut timestamp, bit),
            2 => flip_bit(&mut signature, bit),
            _ => flip_bit(&mut payload, bit),
        }
        // A flipped bit may make the text invalid UTF-8; such a header could never arrive as &str.
        if let (Ok(id), Ok(timestamp), Ok(signature)) =
            (core::str::from_utf8(&id), core::str::from_utf8(&timestamp), core::str::from_utf8(&signature)) {
            let headers = Headers { id, timestamp, signature };
            prop_assert!(webhook.verify_ignoring_timestamp(&headers, &payload).is_err());
            prop_assert!(webhook.verify(&headers, &payload, now).is_err());
        }
    }

    #[test]
    fn arbitrary_headers_never_panic_nor_match(id in ".*", timestamp in ".*", signature in ".*", payload in prop::collection::vec(any::<u8>(), 0..64)) {
        let webhook = Webhook::new(common::SECRET).unwrap();
        let headers = Headers { id: &id, timestamp: &timestamp, signature: &signature };
        let result = webhook.verify(&headers, &payload, common::NOW);
        prop_assert!(result.is_err());
        prop_assert!(webhook.verify_ignoring_timestamp(&headers, &payload).is_err());
        prop_assert!(result != Err(Error::InvalidSecret));
    }

    #[test]
    fn arbitrary_signature_lists_never_panic(signature in "(v1a?,[A-Za-z0-9+/=]{0,90}| {1,3}|v1,)*") {
        let webhook = Webhook::new(common::SECRET).unwrap();
        let headers = common::headers_with(&signature);
        prop_assert!(webhook.verify(&headers, common::PAYLOAD, common::NOW).is_err());
        let with_valid = format!("{signature} {}", common::SIGNATURE);
        prop_assert_eq!(webhook.verify(&common::headers_with(&with_valid), common::PAYLOAD, common::NOW), Ok(()));
    }

    /// Streaming finds its first candidate's token by position and re-reads
    /// the entries after it at `finish`: whatever precedes or follows the
    /// valid entry, it decides as one-shot does.
    #[test]
    fn streaming_decides_like_one_shot_on_any_signature_list(
        before in "(v1a?,[A-Za-z0-9+/=]{0,90}| {1,3}|v1,)*",
        after in "(v1a?,[A-Za-z0-9+/=]{0,90}| {1,3}|v1,)*",
        valid in any::<bool>(),
    ) {
        let webhook = Webhook::new(common::SECRET).unwrap();
        let signature = if valid { format!("{before} {} {after}", common::SIGNATURE) } else { format!("{before} {after}") };
        let headers = common::headers_with(&signature);
        let streamed = webhook.begin(&headers, common::NOW).and_then(|mut verification| {
            verification.update(common::PAYLOAD);
            verification.finish()
        });
        prop_assert_eq!(streamed, webhook.verify(&headers, common::PAYLOAD, common::NOW));
        prop_assert_eq!(streamed.is_ok(), valid);
    }

    #[test]
    fn arbitrary_secrets_never_panic(secret in ".*") {
        let _ = Webhook::new(&secret);
    }

    #[test]
    fn streaming_equals_one_shot(payload in prop::collection::vec(any::<u8>(), 0..2000),
                                 cuts in prop::collection::vec(any::<usize>(), 0..8), tamper in any::<bool>()) {
        let webhook = Webhook::new(common::SECRET).unwrap();
        let mut signed = payload.clone();
        if tamper { signed.push(0); }
        let signature = webhook.sign(common::ID, common::NOW, &signed).unwrap();
        let headers = common::headers_with(signature.as_str());
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (payload.len() + 1)).collect();
        cuts.sort_unstable();
        let mut verification = webhook.begin(&headers, common::NOW).unwrap();
        let mut start = 0;
        for cut in cuts.into_iter().chain([payload.len()]) {
            verification.update(&payload[start..cut]);
            start = cut;
        }
        prop_assert_eq!(verification.finish(), webhook.verify(&headers, &payload, common::NOW));
    }
}
