//! `hmac_sha256` and `decode_hmac_secret`: RFC 4231's vectors, the `hmac`
//! crate as the oracle on random keys and messages split anywhere, and the
//! secret decoding agreeing with `Webhook::new`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use hmac::{Hmac, KeyInit, Mac};
use proptest::prelude::*;
use sha2::Sha256;
use webhook_signature::{Error, MAX_KEY_LEN, Webhook, decode_hmac_secret, hmac_sha256};

/// RFC 4231, test cases 1, 2 and 6 (a 131-byte key, hashed first).
#[test]
fn rfc_4231() {
    let cases: [(&[u8], &[u8], &str); 3] = [
        (&[0x0b; 20], b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (
            b"Jefe",
            b"what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
    ];
    for (i, (key, message, expected)) in cases.iter().enumerate() {
        let hex: String = hmac_sha256(key, &[message]).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(&hex, expected, "#{i}");
    }
}

proptest! {
    #[test]
    fn agrees_with_the_hmac_crate(key in proptest::collection::vec(any::<u8>(), 0..200), message in proptest::collection::vec(any::<u8>(), 0..600), split in 0usize..600) {
        let split = split.min(message.len());
        let mut oracle = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        oracle.update(&message);
        let expected: [u8; 32] = oracle.finalize().into_bytes().into();
        prop_assert_eq!(hmac_sha256(&key, &[&message[..split], &message[split..]]), expected);
    }

    #[test]
    fn decoding_agrees_with_webhook_new(text in "(whsec_)?[A-Za-z0-9+/=]{0,40}") {
        let mut out = [0u8; MAX_KEY_LEN];
        prop_assert_eq!(decode_hmac_secret(&text, &mut out).is_ok(), Webhook::new(&text).is_ok());
    }
}

#[test]
fn decoding() {
    let mut out = [0u8; MAX_KEY_LEN];
    let key = decode_hmac_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &mut out).unwrap().to_vec();
    // The spec's example secret signs its example delivery with these bytes.
    let signature = Webhook::from_key(&key).unwrap().sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        webhook_signature::Timestamp::from_unix_secs(1614265330),
        br#"{"test": 2432232314}"#,
    );
    assert_eq!(signature.unwrap().as_str(), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    for bad in ["", "whsec_", "my-dashboard-secret", "whsec_a"] {
        assert_eq!(decode_hmac_secret(bad, &mut out), Err(Error::InvalidSecret), "{bad}");
    }
    assert_eq!(
        decode_hmac_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &mut [0u8; 8]),
        Err(Error::InvalidSecret)
    );
}
