//! Key rotation: `verify_any` on the receiving side and `sign_header` on the sending side.
// Test helpers: a failed unwrap or index is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use core::time::Duration;

use common::{PAYLOAD, SECRET, SIGNATURE, headers, headers_with};
use webhook_signature::{Error, MAX_SIGNATURE_LEN, Timestamp, Webhook};

fn keys(n: usize) -> Vec<Webhook> {
    (0..n).map(|i| Webhook::from_key(format!("key {i}").as_bytes()).unwrap()).collect()
}

#[test]
fn the_matching_key_index_is_returned() {
    let a1 = Webhook::new(SECRET).unwrap();
    for n in [2, 3] {
        for position in 0..n {
            let mut keys = keys(n);
            keys[position] = a1.clone();
            assert_eq!(
                Webhook::verify_any(&keys, &headers(), PAYLOAD, common::NOW),
                Ok(position),
                "{n} keys"
            );
        }
    }
}

#[test]
fn no_key_matching_is_reported() {
    let keys = keys(3);
    assert_eq!(Webhook::verify_any(&keys, &headers(), PAYLOAD, common::NOW), Err(Error::NoMatchingSignature));
    assert_eq!(Webhook::verify_any(&[], &headers(), PAYLOAD, common::NOW), Err(Error::NoSupportedSignature));
    let unsupported = headers_with("v2,abc");
    assert_eq!(
        Webhook::verify_any(&keys, &unsupported, PAYLOAD, common::NOW),
        Err(Error::NoSupportedSignature)
    );
    let stale = Timestamp::from_unix_secs(common::NOW.as_unix_secs() + 1000);
    assert_eq!(Webhook::verify_any(&keys, &headers(), PAYLOAD, stale), Err(Error::TimestampTooOld));
    let missing = headers_with("");
    assert_eq!(
        Webhook::verify_any(&keys, &missing, PAYLOAD, common::NOW),
        Err(Error::MissingHeader(webhook_signature::HeaderName::Signature))
    );
}

#[test]
fn each_key_applies_its_own_tolerance() {
    let a1 = Webhook::new(SECRET).unwrap();
    let later = Timestamp::from_unix_secs(common::NOW.as_unix_secs() + 600);
    let keys = [a1.clone(), a1.clone().with_tolerance(Duration::from_secs(900))];
    assert_eq!(Webhook::verify_any(&keys, &headers(), PAYLOAD, later), Ok(1));
    // A key that got further (it hashed and compared) explains the failure best.
    let keys = [a1.clone(), Webhook::from_key(b"other").unwrap().with_tolerance(Duration::from_secs(900))];
    assert_eq!(Webhook::verify_any(&keys, &headers(), PAYLOAD, later), Err(Error::NoMatchingSignature));
}

#[test]
fn sign_header_writes_one_entry_per_key() {
    let keys = keys(3);
    let mut out = [0u8; 3 * (MAX_SIGNATURE_LEN + 1)];
    let header = Webhook::sign_header(&keys, common::ID, common::NOW, PAYLOAD, &mut out).unwrap();
    let entries: Vec<&str> = header.split(' ').collect();
    assert_eq!(entries.len(), 3);
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(entries[i], key.sign(common::ID, common::NOW, PAYLOAD).unwrap().as_str());
        assert_eq!(key.verify(&headers_with(header), PAYLOAD, common::NOW), Ok(()));
    }
    // Exactly enough room works; one byte less does not.
    let exact = header.len();
    let mut small = vec![0u8; exact];
    assert!(Webhook::sign_header(&keys, common::ID, common::NOW, PAYLOAD, &mut small).is_ok());
    let mut small = vec![0u8; exact - 1];
    assert_eq!(
        Webhook::sign_header(&keys, common::ID, common::NOW, PAYLOAD, &mut small),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(
        Webhook::sign_header(&[], common::ID, common::NOW, PAYLOAD, &mut out),
        Err(Error::InvalidSecret)
    );
    assert_eq!(Webhook::sign_header(&keys, "a.b", common::NOW, PAYLOAD, &mut out), Err(Error::InvalidId));
}

#[test]
fn a1_signature_header_from_sign_header() {
    let keys = [Webhook::new(SECRET).unwrap()];
    let mut out = [0u8; MAX_SIGNATURE_LEN];
    let header = Webhook::sign_header(&keys, common::ID, common::NOW, PAYLOAD, &mut out).unwrap();
    assert_eq!(header, SIGNATURE);
}

#[test]
fn more_keys_than_one_scan_takes_and_the_lowest_match_wins() {
    let a1 = Webhook::new(SECRET).unwrap();
    for position in [0, 7, 8, 9, 16] {
        let mut keys = keys(17);
        keys[position] = a1.clone();
        assert_eq!(
            Webhook::verify_any(&keys, &headers(), PAYLOAD, common::NOW),
            Ok(position),
            "at {position}"
        );
    }
    let mut keys = keys(12);
    keys[3] = a1.clone();
    keys[10] = a1.clone();
    assert_eq!(Webhook::verify_any(&keys, &headers(), PAYLOAD, common::NOW), Ok(3));
    // A header listing several keys' entries, in another order than the keys.
    let signers = [Webhook::from_key(b"key 5").unwrap(), a1.clone()];
    let mut out = [0u8; 2 * (MAX_SIGNATURE_LEN + 1)];
    let header = Webhook::sign_header(&signers, common::ID, common::NOW, PAYLOAD, &mut out).unwrap();
    let keys = self::keys(8);
    assert_eq!(Webhook::verify_any(&keys, &headers_with(header), PAYLOAD, common::NOW), Ok(5));
}

/// With several keys failing, the error of the key that got furthest is
/// reported: no supported signature beats another key's window error.
#[cfg(feature = "ed25519")]
#[test]
fn the_furthest_failure_is_reported() {
    let narrow = Webhook::new(common::SECRET).unwrap().with_tolerance(Duration::ZERO);
    let ed25519 = Webhook::new(common::V1A_VECTORS[0].public).unwrap();
    let later = Timestamp::from_unix_secs(common::NOW.as_unix_secs() + 10);
    let keys = [narrow, ed25519];
    // Key 0: too old for its zero tolerance; key 1: the header has no v1a entry.
    assert_eq!(
        Webhook::verify_any(&keys, &common::headers(), common::PAYLOAD, later),
        Err(Error::NoSupportedSignature)
    );
    assert_eq!(
        Webhook::verify_any(&keys[..1], &common::headers(), common::PAYLOAD, later),
        Err(Error::TimestampTooOld)
    );
}
