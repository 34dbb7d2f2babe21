//! Timestamp parsing and the tolerance window, including its edges at 0 and `u64::MAX`.
// Test helpers: a failed unwrap or index is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use core::time::Duration;

use common::{PAYLOAD, SECRET, headers};
use webhook_signature::{Error, Headers, Timestamp, Webhook};

fn webhook() -> Webhook {
    Webhook::new(SECRET).unwrap()
}

/// A delivery signed at `sent`, verified at `now` with the given tolerance.
fn verify_at(sent: u64, now: u64, tolerance_secs: u64) -> Result<(), Error> {
    let webhook = webhook().with_tolerance(Duration::from_secs(tolerance_secs));
    let signature = webhook.sign(common::ID, Timestamp::from_unix_secs(sent), PAYLOAD).unwrap();
    let timestamp = sent.to_string();
    let headers = Headers { id: common::ID, timestamp: &timestamp, signature: signature.as_str() };
    webhook.verify(&headers, PAYLOAD, Timestamp::from_unix_secs(now))
}

#[test]
fn parse_accepts_plain_digits() {
    assert_eq!(Timestamp::parse("0"), Ok(Timestamp::from_unix_secs(0)));
    assert_eq!(Timestamp::parse("0001614265330"), Ok(common::NOW));
    assert_eq!(Timestamp::parse("18446744073709551615"), Ok(Timestamp::from_unix_secs(u64::MAX)));
    assert_eq!("42".parse::<Timestamp>(), Ok(Timestamp::from_unix_secs(42)));
}

#[test]
fn parse_rejects_everything_else() {
    let bad = [
        "",
        "+1614265330",
        "-1614265330",
        " 1614265330",
        "1614265330 ",
        "1614265330.0",
        "1.6e9",
        "1e9",
        "-9223372036854775808", // i64::MIN, which passes the Rust reference library's age check
        "18446744073709551616", // u64::MAX + 1
        "99999999999999999999999999",
        "１６１４２６５３３０", // full-width digits
        "١٦١٤٢٦٥٣٣٠",           // Arabic-Indic digits
        "0x10",
        "abc",
    ];
    for (i, text) in bad.iter().enumerate() {
        assert_eq!(Timestamp::parse(text), Err(Error::InvalidTimestamp), "#{i}: {text:?}");
        let headers = Headers { timestamp: text, ..headers() };
        let expected = if text.is_empty() {
            Error::MissingHeader(webhook_signature::HeaderName::Timestamp)
        } else {
            Error::InvalidTimestamp
        };
        assert_eq!(webhook().verify(&headers, PAYLOAD, common::NOW), Err(expected), "#{i}");
        assert_eq!(webhook().verify_ignoring_timestamp(&headers, PAYLOAD), Err(expected), "#{i}");
    }
}

/// Every byte value at every position of texts of 1 to 20 characters, and
/// every value's decimal text: the same answers as the standard library's
/// parser, minus the `+` it accepts. (The parser reads eight digits at a time
/// in one word, so the positions around each group of eight matter.)
#[test]
fn parse_agrees_with_the_standard_library_at_every_position() {
    for len in 1..=20 {
        let digits: Vec<u8> = (0..len).map(|i| b'1' + (i % 9) as u8).collect();
        for position in 0..len {
            for byte in 0..=255u8 {
                let mut text = digits.clone();
                text[position] = byte;
                let Ok(text) = core::str::from_utf8(&text) else { continue };
                let expected = if text.starts_with('+') { None } else { text.parse::<u64>().ok() };
                assert_eq!(Timestamp::parse(text).ok(), expected.map(Timestamp::from_unix_secs), "{text:?}");
            }
        }
    }
}

proptest::proptest! {
    #[test]
    fn parse_reads_every_value(value: u64, zeros in 0usize..4) {
        let text = format!("{}{value}", "0".repeat(zeros));
        proptest::prop_assert_eq!(Timestamp::parse(&text), Ok(Timestamp::from_unix_secs(value)));
    }
}

#[test]
fn window_boundaries_are_inclusive() {
    let now = 1_700_000_000;
    assert_eq!(verify_at(now - 300, now, 300), Ok(()));
    assert_eq!(verify_at(now + 300, now, 300), Ok(()));
    assert_eq!(verify_at(now - 301, now, 300), Err(Error::TimestampTooOld));
    assert_eq!(verify_at(now + 301, now, 300), Err(Error::TimestampTooNew));
    assert_eq!(verify_at(now, now, 0), Ok(()));
    assert_eq!(verify_at(now - 1, now, 0), Err(Error::TimestampTooOld));
}

#[test]
fn default_tolerance_is_five_minutes() {
    assert_eq!(webhook().tolerance(), Duration::from_secs(300));
    let now = Timestamp::from_unix_secs(common::NOW.as_unix_secs() + 301);
    assert_eq!(webhook().verify(&headers(), PAYLOAD, now), Err(Error::TimestampTooOld));
    let now = Timestamp::from_unix_secs(common::NOW.as_unix_secs() + 300);
    assert_eq!(webhook().verify(&headers(), PAYLOAD, now), Ok(()));
}

#[test]
fn window_edges_do_not_overflow() {
    // At now = 0 nothing is too old; at now = u64::MAX nothing is too new.
    assert_eq!(verify_at(0, 0, 300), Ok(()));
    assert_eq!(verify_at(300, 0, 300), Ok(()));
    assert_eq!(verify_at(301, 0, 300), Err(Error::TimestampTooNew));
    assert_eq!(verify_at(u64::MAX, 0, 300), Err(Error::TimestampTooNew));
    assert_eq!(verify_at(u64::MAX, u64::MAX, 300), Ok(()));
    assert_eq!(verify_at(u64::MAX - 300, u64::MAX, 300), Ok(()));
    assert_eq!(verify_at(u64::MAX - 301, u64::MAX, 300), Err(Error::TimestampTooOld));
    assert_eq!(verify_at(0, u64::MAX, 300), Err(Error::TimestampTooOld));
    assert_eq!(verify_at(0, u64::MAX, u64::MAX), Ok(()));
    assert_eq!(verify_at(u64::MAX, 0, u64::MAX), Ok(()));
}

#[test]
fn sub_second_tolerance_is_ignored() {
    let now = 1_700_000_000;
    let webhook = webhook().with_tolerance(Duration::from_millis(1999));
    assert_eq!(webhook.tolerance(), Duration::from_millis(1999));
    let signature = webhook.sign(common::ID, Timestamp::from_unix_secs(now - 2), PAYLOAD).unwrap();
    let timestamp = (now - 2).to_string();
    let headers = Headers { id: common::ID, timestamp: &timestamp, signature: signature.as_str() };
    let result = webhook.verify(&headers, PAYLOAD, Timestamp::from_unix_secs(now));
    assert_eq!(result, Err(Error::TimestampTooOld));
}

#[test]
fn ignoring_timestamp_skips_only_the_window() {
    let far_future = Timestamp::from_unix_secs(u64::MAX);
    assert_eq!(webhook().verify(&headers(), PAYLOAD, far_future), Err(Error::TimestampTooOld));
    assert_eq!(webhook().verify_ignoring_timestamp(&headers(), PAYLOAD), Ok(()));
}

#[test]
fn timestamp_is_hashed_as_received() {
    // Leading zeros parse to the same instant but are different signed content.
    let headers = Headers { timestamp: "01614265330", ..headers() };
    assert_eq!(webhook().verify(&headers, PAYLOAD, common::NOW), Err(Error::NoMatchingSignature));
}

#[cfg(feature = "std")]
#[test]
fn verify_now_uses_a_real_clock() {
    // Any real clock is far past 1970-01-01T00:05:00, so this does not depend on the time.
    let headers = Headers { timestamp: "0", ..headers() };
    assert_eq!(webhook().verify_now(&headers, PAYLOAD), Err(Error::TimestampTooOld));
}

/// `Display` writes the decimal seconds, as `sign` hashes them.
#[test]
fn display_is_the_decimal_seconds() {
    assert_eq!(Timestamp::from_unix_secs(1_614_265_330).to_string(), "1614265330");
    assert_eq!(Timestamp::from_unix_secs(0).to_string(), "0");
    assert_eq!(Timestamp::from_unix_secs(u64::MAX).to_string(), "18446744073709551615");
}
