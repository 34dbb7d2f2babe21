//! `HmacKey`/`Mac` against the `hmac` crate (the oracle) and RFC 4231.
#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing, clippy::unwrap_used)]

use std::vec;
use std::vec::Vec;

use hmac::{Hmac, KeyInit, Mac as _};
use proptest::prelude::*;
use sha2::Sha256;

use super::HmacKey;

fn oracle(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn ours(key: &[u8], message: &[u8]) -> [u8; 32] {
    let key = HmacKey::new(key);
    let mut mac = key.start();
    mac.update(message);
    key.finish(&mut mac)
}

/// The parts go in with `append_small` (as `v1` feeds `{id}.{ts}.`), then
/// the payload with `update`.
fn tag_of(key: &HmacKey, parts: &[&[u8]], payload: &[u8]) -> [u8; 32] {
    let mut mac = key.start();
    for part in parts {
        mac.append_small(part);
    }
    mac.update(payload);
    key.finish(&mut mac)
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// RFC 4231, section 4: test cases 1–4, 6 and 7 (5 truncates the output).
#[test]
fn rfc4231() {
    let cases: [(Vec<u8>, Vec<u8>, &str); 6] = [
        (vec![0x0b; 20], b"Hi There".to_vec(), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (b"Jefe".to_vec(), b"what do ya want for nothing?".to_vec(), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (vec![0xaa; 20], vec![0xdd; 50], "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), vec![0xcd; 50], "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (vec![0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (
            vec![0xaa; 131],
            b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        ),
    ];
    for (i, (key, message, expected)) in cases.iter().enumerate() {
        assert_eq!(ours(key, message).to_vec(), hex(expected), "RFC 4231 case #{i}");
    }
}

#[test]
fn block_boundaries() {
    // 55 and 56 bytes are where the length stops fitting the last block;
    // 63, 64 and 65 straddle a whole block.
    for len in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129] {
        let message = vec![0x61; len];
        for key_len in [1, 32, 63, 64, 65, 200] {
            let key = vec![0x4b; key_len];
            assert_eq!(ours(&key, &message), oracle(&key, &message), "message {len}, key {key_len}");
        }
    }
}

proptest! {
    #[test]
    fn equals_the_hmac_crate(key in proptest::collection::vec(any::<u8>(), 1..200), message in proptest::collection::vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(ours(&key, &message), oracle(&key, &message));
    }

    #[test]
    fn any_chunking_gives_the_same_tag(
        key_bytes in proptest::collection::vec(any::<u8>(), 1..100),
        message in proptest::collection::vec(any::<u8>(), 0..400),
        cuts in proptest::collection::vec(0usize..130, 0..12),
    ) {
        let key = HmacKey::new(&key_bytes);
        let mut mac = key.start();
        let mut rest = &message[..];
        for cut in cuts {
            let (head, tail) = rest.split_at(cut.min(rest.len()));
            mac.update(head);
            rest = tail;
        }
        mac.update(rest);
        prop_assert_eq!(key.finish(&mut mac), oracle(&key_bytes, &message));
    }
}

proptest! {
    /// A tag with its parts of any length (ids longer than a
    /// block, prefixes straddling a block boundary) equals the oracle.
    #[test]
    fn tag_of_parts_equals_the_hmac_crate(
        key in proptest::collection::vec(any::<u8>(), 1..80),
        id in proptest::collection::vec(any::<u8>(), 0..150),
        timestamp in proptest::collection::vec(any::<u8>(), 0..70),
        payload in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let message = [&id[..], b".", &timestamp, b".", &payload].concat();
        prop_assert_eq!(tag_of(&HmacKey::new(&key), &[&id, b".", &timestamp, b"."], &payload), oracle(&key, &message));
    }
}

#[test]
fn prefixes_ending_exactly_on_a_block_boundary() {
    for id_len in 0..=130 {
        let id = vec![b'i'; id_len];
        for timestamp_len in [0, 1, 10, 62, 63, 64] {
            let timestamp = vec![b'7'; timestamp_len];
            let message = [&id[..], b".", &timestamp, b".", b"body"].concat();
            let key = HmacKey::new(b"key");
            assert_eq!(
                tag_of(&key, &[&id, b".", &timestamp, b"."], b"body"),
                oracle(b"key", &message),
                "{id_len} {timestamp_len}"
            );
        }
    }
}
