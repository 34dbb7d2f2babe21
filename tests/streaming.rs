//! Streaming verification (`begin` / `update` / `finish`) agrees with one-shot `verify`.
// Test helpers: a failed unwrap or index is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use common::{PAYLOAD, SECRET, V1_VECTORS, headers};
use webhook_signature::{Error, Timestamp, Webhook};

#[test]
fn uneven_chunks_equal_one_shot_on_every_vector() {
    for (i, vector) in V1_VECTORS.iter().enumerate() {
        let webhook = Webhook::new(vector.secret).unwrap();
        let payload = vector.payload.to_vec();
        for chunk_len in [1, 7, 63, 64, 65, 4096, 65_536] {
            let mut verification = webhook.begin(&vector.headers(), vector.now()).unwrap();
            for chunk in payload.chunks(chunk_len) {
                verification.update(chunk);
            }
            assert_eq!(verification.finish(), Ok(()), "#{i} chunk {chunk_len}: {}", vector.source);
            if payload.len() > 10_000 && chunk_len < 64 {
                break; // one small chunking of the 1 MiB bodies is enough
            }
        }
    }
}

#[test]
fn begin_rejects_before_the_body() {
    let webhook = Webhook::new(SECRET).unwrap();
    let stale = Timestamp::from_unix_secs(common::NOW.as_unix_secs() + 301);
    assert_eq!(webhook.begin(&headers(), stale).unwrap_err(), Error::TimestampTooOld);
    let unsupported = common::headers_with("v1a,xyz");
    assert_eq!(webhook.begin(&unsupported, common::NOW).unwrap_err(), Error::NoSupportedSignature);
    assert_eq!(webhook.begin_ignoring_timestamp(&headers()).map(|_| ()), Ok(()));
}

#[test]
fn tampered_stream_is_rejected() {
    let webhook = Webhook::new(SECRET).unwrap();
    let mut verification = webhook.begin(&headers(), common::NOW).unwrap();
    verification.update(&PAYLOAD[..5]);
    verification.update(b"X");
    verification.update(&PAYLOAD[6..]);
    assert_eq!(verification.finish(), Err(Error::NoMatchingSignature));
    // Debug shows the scheme, never the key or hash state.
    let verification = webhook.begin(&headers(), common::NOW).unwrap();
    assert_eq!(format!("{verification:?}"), "Verification { scheme: V1, .. }");
}
