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

/// `begin_any` with several keys decides like `verify_any`, whatever the chunking.
#[test]
fn several_keys_stream_like_verify_any() {
    use webhook_signature::AnyVerification;
    let keys =
        [Webhook::from_key(b"new").unwrap(), Webhook::new(SECRET).unwrap(), Webhook::from_key(b"x").unwrap()];
    let stream = |keys: &[Webhook], headers: &webhook_signature::Headers<'_>, body: &[u8], chunk: usize| {
        let mut verification: AnyVerification<'_, 4> = Webhook::begin_any(keys, headers, common::NOW)?;
        body.chunks(chunk).for_each(|part| verification.update(part));
        verification.finish()
    };
    for chunk in [1, 5, 64, 1000] {
        assert_eq!(stream(&keys, &headers(), PAYLOAD, chunk), Ok(1));
        assert_eq!(
            stream(&keys, &headers(), PAYLOAD, chunk),
            Webhook::verify_any(&keys, &headers(), PAYLOAD, common::NOW)
        );
        assert_eq!(stream(&keys, &headers(), b"tampered", chunk), Err(Error::NoMatchingSignature));
        assert_eq!(stream(&keys[..1], &headers(), PAYLOAD, chunk), Err(Error::NoMatchingSignature));
    }
    // The same key twice: the lowest index wins.
    let twice = [Webhook::new(SECRET).unwrap(), Webhook::new(SECRET).unwrap()];
    assert_eq!(stream(&twice, &headers(), PAYLOAD, 7), Ok(0));
    // Rejections before the body, as verify_any reports them.
    let stale = Timestamp::from_unix_secs(common::NOW.as_unix_secs() + 301);
    let begin = |keys: &[Webhook], headers: &webhook_signature::Headers<'_>, now| {
        Webhook::begin_any::<4>(keys, headers, now).map(|_| ())
    };
    assert_eq!(begin(&keys, &headers(), stale), Err(Error::TimestampTooOld));
    assert_eq!(begin(&keys, &common::headers_with("v1a,xyz"), common::NOW), Err(Error::NoSupportedSignature));
    assert_eq!(
        begin(&keys, &common::headers_with(""), common::NOW),
        Err(Error::MissingHeader(webhook_signature::HeaderName::Signature))
    );
    assert_eq!(begin(&[], &headers(), common::NOW), Err(Error::NoSupportedSignature));
    let five: Vec<Webhook> = (0..5u8).map(|i| Webhook::from_key(&[i + 1]).unwrap()).collect();
    assert_eq!(begin(&five, &headers(), common::NOW), Err(Error::TooManyKeys));
    // One key's window fails, another's does not: the other one still decides.
    let narrow = [
        Webhook::new(SECRET).unwrap().with_tolerance(core::time::Duration::ZERO),
        Webhook::new(SECRET).unwrap(),
    ];
    let late = Timestamp::from_unix_secs(common::NOW.as_unix_secs() + 10);
    let mut verification: AnyVerification<'_, 2> = Webhook::begin_any(&narrow, &headers(), late).unwrap();
    verification.update(PAYLOAD);
    assert_eq!(verification.finish(), Ok(1));
}

/// A matching entry followed by entries that do not match still verifies,
/// streamed as in one shot: every entry is compared, and one match suffices.
#[test]
fn a_match_before_other_entries_still_verifies() {
    let webhook = Webhook::new(SECRET).unwrap();
    let wrong = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let header = format!("{} {wrong} {wrong}", common::SIGNATURE);
    let headers = common::headers_with(&header);
    assert_eq!(webhook.verify(&headers, PAYLOAD, common::NOW), Ok(()));
    let mut verification = webhook.begin(&headers, common::NOW).unwrap();
    verification.update(PAYLOAD);
    assert_eq!(verification.finish(), Ok(()));
    let reversed = format!("{wrong} {wrong} {}", common::SIGNATURE);
    let mut verification = webhook.begin(&common::headers_with(&reversed), common::NOW).unwrap();
    verification.update(PAYLOAD);
    assert_eq!(verification.finish(), Ok(()));
}

/// A `v1` verification is returned by move: at 128 bytes the move is a few
/// vector moves, not a `memcpy` call (the `ed25519` feature adds the much
/// larger `v1a` state, so this holds without it).
#[cfg(not(feature = "ed25519"))]
#[test]
fn a_v1_verification_fits_128_bytes() {
    use webhook_signature::Verification;
    assert!(size_of::<Verification<'_>>() <= 128, "{}", size_of::<Verification<'_>>());
    assert_eq!(size_of::<Result<Verification<'_>, Error>>(), size_of::<Verification<'_>>());
}

/// When no key can start, `begin_any` reports the error of the key that got
/// furthest, in either order: a key with no candidate in the header got past
/// the timestamp window, so it is more telling than a key whose window failed.
#[cfg(feature = "ed25519")]
#[test]
fn begin_any_reports_the_most_telling_failure() {
    let narrow = Webhook::new(SECRET).unwrap().with_tolerance(core::time::Duration::ZERO);
    let ed25519 = Webhook::new(common::V1A_VECTORS[0].public).unwrap();
    let late = Timestamp::from_unix_secs(common::NOW.as_unix_secs() + 10);
    for keys in [[narrow.clone(), ed25519.clone()], [ed25519, narrow]] {
        let started = Webhook::begin_any::<2>(&keys, &headers(), late).map(|_| ());
        assert_eq!(started, Err(Error::NoSupportedSignature));
    }
}

/// `Debug` names the scheme or the number of keys, never key or hash state.
#[test]
fn debug_shows_no_state() {
    use webhook_signature::AnyVerification;
    let keys = [Webhook::new(SECRET).unwrap(), Webhook::from_key(b"other").unwrap()];
    let verification: AnyVerification<'_, 4> = Webhook::begin_any(&keys, &headers(), common::NOW).unwrap();
    assert_eq!(format!("{verification:?}"), "AnyVerification { keys: 2, .. }");
}
