//! The `v1a` scheme (Ed25519): known answers B1–B3 and RFC 8032, key formats,
//! strictness, mixed headers, rotation across schemes and the candidate cap.
#![cfg(feature = "ed25519")]
// Test helpers: a failed unwrap or index is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use base64ct::{Base64, Encoding};
use common::{ID, NOW, PAYLOAD, RFC8032, SMALL_ORDER_POINTS, V1A_VECTORS, headers_with, hex};
use proptest::prelude::*;
use webhook_signature::{Error, MAX_V1A_CANDIDATES, Scheme, Timestamp, Webhook};

fn verify(key: &str, signature: &str) -> Result<(), Error> {
    Webhook::new(key).unwrap().verify(&headers_with(signature), PAYLOAD, NOW)
}

#[test]
fn sign_reproduces_every_v1a_vector() {
    for (i, vector) in V1A_VECTORS.iter().enumerate() {
        let secret = Webhook::new(vector.secret).unwrap();
        assert_eq!(secret.scheme(), Scheme::V1a);
        let signature = secret.sign(ID, NOW, PAYLOAD).unwrap();
        assert_eq!(signature.as_str(), vector.signature, "#{i}: {}", vector.source);
        assert_eq!(signature.scheme(), Scheme::V1a);
        // The longest entry there is: `v1a,` and 88 characters.
        assert_eq!(signature.as_str().len(), webhook_signature::MAX_SIGNATURE_LEN);
        let public = Webhook::new(vector.public).unwrap();
        assert_eq!(secret.public_key(), public.public_key(), "#{i}: derived public key");
    }
}

#[test]
fn verify_accepts_every_v1a_vector_with_either_key() {
    for (i, vector) in V1A_VECTORS.iter().enumerate() {
        for key in [vector.public, vector.secret] {
            assert_eq!(verify(key, vector.signature), Ok(()), "#{i}: {} with {key}", vector.source);
            let webhook = Webhook::new(key).unwrap();
            assert_eq!(webhook.verify_ignoring_timestamp(&headers_with(vector.signature), PAYLOAD), Ok(()));
        }
    }
}

#[test]
fn rfc8032_seeds_derive_the_rfc_public_keys() {
    for (i, (seed, public, _, _)) in RFC8032.iter().enumerate() {
        let secret = format!("whsk_{}", Base64::encode_string(&hex(seed)));
        let derived = Webhook::new(&secret).unwrap().public_key().unwrap();
        assert_eq!(derived.to_vec(), hex(public), "RFC 8032 test {}", i + 1);
    }
}

#[test]
fn malformed_keys_are_rejected() {
    let b1 = &V1A_VECTORS[0];
    let mut pair = Base64::decode_vec(&b1.secret[5..]).unwrap();
    pair[63] ^= 1; // the tail no longer matches the seed's public key
    let mismatched = format!("whsk_{}", Base64::encode_string(&pair));
    let bad = [
        "whsk_".to_owned(),
        "whpk_".to_owned(),
        mismatched,
        format!("whsk_{}", Base64::encode_string(&[1u8; 31])),
        format!("whsk_{}", Base64::encode_string(&[1u8; 48])),
        format!("whpk_{}", Base64::encode_string(&[1u8; 33])),
        format!("whpk_{}", &b1.public[5..20]),
    ];
    for (i, key) in bad.iter().enumerate() {
        assert_eq!(Webhook::new(key).unwrap_err(), Error::InvalidSecret, "#{i}: {key}");
    }
    for point in SMALL_ORDER_POINTS {
        let weak = format!("whpk_{}", Base64::encode_string(&hex(point)));
        assert_eq!(Webhook::new(&weak).unwrap_err(), Error::InvalidSecret, "weak key {point}");
    }
}

#[test]
fn public_keys_cannot_sign() {
    let public = Webhook::new(V1A_VECTORS[0].public).unwrap();
    assert!(!public.can_sign());
    assert_eq!(public.sign(ID, NOW, PAYLOAD), Err(Error::CannotSign));
    let mut out = [0u8; 128];
    assert_eq!(Webhook::sign_header(&[public], ID, NOW, PAYLOAD, &mut out), Err(Error::CannotSign));
    // The keys that can sign say so.
    assert!(Webhook::new(V1A_VECTORS[0].secret).unwrap().can_sign());
    assert!(Webhook::new(common::SECRET).unwrap().can_sign());
}

#[test]
fn entries_a_key_cannot_check_are_unsupported() {
    let b1 = &V1A_VECTORS[0];
    let value = &b1.signature[4..];
    let hmac_value = &common::SIGNATURE[3..];
    let unsupported = [
        "v1a,".to_owned(),
        format!("v1a,{hmac_value}"), // a 32-byte value under v1a
        format!("v1,{value}"),       // B1's signature labelled v1
        format!("V1A,{value}"),
        format!("v1a,{}", &value[..87]),
        common::SIGNATURE.to_owned(), // a v1 entry, for an Ed25519 key
    ];
    for (i, header) in unsupported.iter().enumerate() {
        assert_eq!(verify(b1.public, header), Err(Error::NoSupportedSignature), "#{i}: {header}");
    }
    // And an HMAC key skips v1a entries.
    assert_eq!(verify(common::SECRET, b1.signature), Err(Error::NoSupportedSignature));
}

#[test]
fn wrong_and_forged_signatures_do_not_match() {
    let (b1, b2) = (&V1A_VECTORS[0], &V1A_VECTORS[1]);
    assert_eq!(verify(b1.public, b2.signature), Err(Error::NoMatchingSignature));
    let other = Webhook::new(b1.public).unwrap();
    let tampered = other.verify(&headers_with(b1.signature), b"{\"test\": 2432232315}", NOW);
    assert_eq!(tampered, Err(Error::NoMatchingSignature));
    // Small-order R with s = 0, and a non-canonical encoding: rejected, never a panic.
    let mut forgeries: Vec<String> = SMALL_ORDER_POINTS
        .iter()
        .map(|point| format!("v1a,{}", Base64::encode_string(&[hex(point), vec![0; 32]].concat())))
        .collect();
    forgeries.push(format!("v1a,{}", Base64::encode_string(&[0xff; 64])));
    let value = &b1.signature[4..];
    forgeries.push(format!("v1a,{}B==", &value[..85])); // unused bits set in the last character
    for (i, forged) in forgeries.iter().enumerate() {
        assert_eq!(verify(b1.public, forged), Err(Error::NoMatchingSignature), "#{i}: {forged}");
    }
}

#[test]
fn mixed_headers_verify_with_either_kind_of_key() {
    let b1 = &V1A_VECTORS[0];
    let hmac = Webhook::new(common::SECRET).unwrap();
    let mixed = format!("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {}", b1.signature);
    assert_eq!(verify(b1.public, &mixed), Ok(()));
    let both = format!("{} {}", b1.signature, common::SIGNATURE);
    assert_eq!(verify(b1.public, &both), Ok(()));
    assert_eq!(hmac.verify(&headers_with(&both), PAYLOAD, NOW), Ok(()));
}

#[test]
fn rotation_mixes_hmac_and_ed25519_keys() {
    let b1 = &V1A_VECTORS[0];
    let keys = [
        Webhook::from_key(b"unrelated").unwrap(),
        Webhook::new(V1A_VECTORS[1].public).unwrap(),
        Webhook::new(b1.public).unwrap(),
        Webhook::new(common::SECRET).unwrap(),
    ];
    assert_eq!(Webhook::verify_any(&keys, &headers_with(b1.signature), PAYLOAD, NOW), Ok(2));
    assert_eq!(Webhook::verify_any(&keys, &headers_with(common::SIGNATURE), PAYLOAD, NOW), Ok(3));
    assert_eq!(
        Webhook::verify_any(&keys[..2], &headers_with(b1.signature), PAYLOAD, NOW),
        Err(Error::NoMatchingSignature)
    );

    // The sending side: one header with an HMAC and an Ed25519 entry.
    let senders = [Webhook::new(common::SECRET).unwrap(), Webhook::new(b1.secret).unwrap()];
    let mut out = [0u8; 2 * (webhook_signature::MAX_SIGNATURE_LEN + 1)];
    let header = Webhook::sign_header(&senders, ID, NOW, PAYLOAD, &mut out).unwrap();
    assert_eq!(header, format!("{} {}", common::SIGNATURE, b1.signature));
}

#[test]
fn candidates_beyond_the_cap_are_skipped() {
    let b1 = &V1A_VECTORS[0];
    let decoy = V1A_VECTORS[1].signature;
    let at = |position: usize| {
        let mut entries = vec![decoy; position];
        entries.push(b1.signature);
        entries.join(" ")
    };
    assert_eq!(verify(b1.public, &at(MAX_V1A_CANDIDATES - 1)), Ok(()));
    assert_eq!(verify(b1.public, &at(MAX_V1A_CANDIDATES)), Err(Error::NoMatchingSignature));
    // v1 entries do not count towards the v1a cap.
    let padded = format!("{} {}", "v1,x ".repeat(100), b1.signature);
    assert_eq!(verify(b1.public, &padded), Ok(()));
}

#[test]
fn streaming_in_uneven_chunks_equals_one_shot() {
    let b1 = &V1A_VECTORS[0];
    let webhook = Webhook::new(b1.secret).unwrap();
    let body: Vec<u8> = (0..70_000u32).map(|i| (i * 31) as u8).collect();
    let signature = webhook.sign(ID, NOW, &body).unwrap();
    let header = format!("{} {}", V1A_VECTORS[1].signature, signature);
    let headers = headers_with(&header);
    for chunk_len in [1, 100, 4096, 65_536] {
        let mut verification = webhook.begin(&headers, NOW).unwrap();
        body.chunks(chunk_len).for_each(|chunk| verification.update(chunk));
        assert_eq!(verification.finish(), Ok(()), "chunks of {chunk_len}");
    }
    assert_eq!(webhook.verify(&headers, &body, NOW), Ok(()));
    assert_eq!(webhook.verify(&headers, &body[1..], NOW), Err(Error::NoMatchingSignature));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sign_then_verify_round_trips_and_bit_flips_fail(seed in any::<[u8; 32]>(), id in "[A-Za-z0-9_]{1,30}",
                                                       secs in 1u64..4_000_000_000, payload in prop::collection::vec(any::<u8>(), 0..300),
                                                       field in 0usize..4, bit in any::<usize>()) {
        let secret = Webhook::new(&format!("whsk_{}", Base64::encode_string(&seed))).unwrap();
        let public = Webhook::new(&format!("whpk_{}", Base64::encode_string(&secret.public_key().unwrap()))).unwrap();
        let now = Timestamp::from_unix_secs(secs);
        let signature = secret.sign(&id, now, &payload).unwrap().to_string();
        let timestamp = secs.to_string();
        let headers = webhook_signature::Headers { id: &id, timestamp: &timestamp, signature: &signature };
        prop_assert_eq!(public.verify(&headers, &payload, now), Ok(()));

        let (mut id, mut timestamp, mut signature, mut payload) =
            (id.into_bytes(), timestamp.into_bytes(), signature.into_bytes(), payload);
        let target = match field { 0 => &mut id, 1 => &mut timestamp, 2 => &mut signature, _ => &mut payload };
        if target.is_empty() { target.push(0) } else { let bit = bit % (target.len() * 8); target[bit / 8] ^= 1 << (bit % 8); }
        if let (Ok(id), Ok(timestamp), Ok(signature)) =
            (core::str::from_utf8(&id), core::str::from_utf8(&timestamp), core::str::from_utf8(&signature)) {
            let headers = webhook_signature::Headers { id, timestamp, signature };
            prop_assert!(public.verify_ignoring_timestamp(&headers, &payload).is_err());
        }
    }
}
