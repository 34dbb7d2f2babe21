//! `StaticKeys` as a `WebhookVerifier`, and how its refusals are classified.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use webhook_signature::{Error, HeaderName, Headers, Timestamp, Webhook};
use webhook_signature_verifier::{
    Failure, PendingVerification, Reason, StaticKeys, VerifyError, WebhookVerifier, widest_tolerance,
};

// The Standard Webhooks reference libraries' shared vector (their tests in
// Python, JavaScript, Go, Java, Ruby, PHP and C#), as in the core's tests.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TIMESTAMP: &str = "1614265330";
const NOW: Timestamp = Timestamp::from_unix_secs(1_614_265_330);
const PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;
const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
/// Another key: base64 of `secret-for-the-previous-key`.
const OTHER_SECRET: &str = "whsec_c2VjcmV0LWZvci10aGUtcHJldmlvdXMta2V5";

fn headers() -> Headers<'static> {
    Headers { id: ID, timestamp: TIMESTAMP, signature: SIGNATURE }
}

fn keys(secrets: &[&str]) -> StaticKeys {
    StaticKeys::new(secrets.iter().map(|secret| Webhook::new(secret).unwrap()).collect()).unwrap()
}

/// The static keys' `begin` awaits nothing: one poll finishes it.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a static verification never waits"),
    }
}

/// What a receiver does: headers, then `begin`, then the body chunk by chunk.
fn receive<V: WebhookVerifier>(
    verifier: &V,
    headers: Headers<'_>,
    chunks: &[&[u8]],
    now: Timestamp,
) -> Result<V::Output, VerifyError> {
    verifier.check_headers(&headers, now)?;
    let mut pending = ready(verifier.begin(headers, now))?;
    let mut body = Vec::new();
    for chunk in chunks {
        pending.update(chunk);
        body.extend_from_slice(chunk);
    }
    pending.finish(&body)
}

#[test]
fn one_key_verifies_a_body_in_chunks() {
    let (head, tail) = PAYLOAD.split_at(7);
    assert_eq!(receive(&keys(&[SECRET]), headers(), &[head, b"", tail], NOW).unwrap(), 0);
}

#[test]
fn the_output_is_the_index_of_the_matching_key() {
    assert_eq!(receive(&keys(&[OTHER_SECRET, SECRET]), headers(), &[PAYLOAD], NOW).unwrap(), 1);
    assert_eq!(receive(&keys(&[SECRET, OTHER_SECRET]), headers(), &[PAYLOAD], NOW).unwrap(), 0);
}

#[test]
fn a_tampered_body_is_unauthenticated_for_one_key_and_for_many() {
    for verifier in [keys(&[SECRET]), keys(&[OTHER_SECRET, SECRET])] {
        let error = receive(&verifier, headers(), &[br#"{"test": 2432232315}"#], NOW).unwrap_err();
        assert_eq!((error.kind(), error.label()), (Failure::Unauthenticated, Reason::NoMatchingSignature));
    }
}

#[test]
fn no_key_and_too_many_keys_are_refused() {
    assert_eq!(StaticKeys::new(Vec::new()).unwrap_err(), Error::InvalidSecret);
    let key = Webhook::new(SECRET).unwrap();
    let most = vec![key.clone(); StaticKeys::MAX_KEYS];
    assert_eq!(StaticKeys::new(most.clone()).unwrap().keys().len(), StaticKeys::MAX_KEYS);
    let over = [most, vec![key]].concat();
    assert_eq!(StaticKeys::new(over).unwrap_err(), Error::TooManyKeys);
}

#[test]
fn check_headers_refuses_before_the_body() {
    let verifier = keys(&[SECRET]);
    let cases: [(Headers<'_>, Timestamp, Failure, Reason); 5] = [
        (Headers { id: "", ..headers() }, NOW, Failure::Malformed, Reason::MissingHeader),
        (
            Headers { timestamp: "+1614265330", ..headers() },
            NOW,
            Failure::Malformed,
            Reason::InvalidTimestamp,
        ),
        (
            headers(),
            Timestamp::from_unix_secs(1_614_265_330 + 301),
            Failure::Unauthenticated,
            Reason::StaleTimestamp,
        ),
        (
            headers(),
            Timestamp::from_unix_secs(1_614_265_330 - 301),
            Failure::Unauthenticated,
            Reason::StaleTimestamp,
        ),
        (headers(), Timestamp::from_unix_secs(u64::MAX), Failure::Unauthenticated, Reason::StaleTimestamp),
    ];
    for (i, (headers, now, kind, label)) in cases.into_iter().enumerate() {
        let error = verifier.check_headers(&headers, now).unwrap_err();
        assert_eq!((error.kind(), error.label()), (kind, label), "#{i}: {headers:?}");
    }
    let edge = Timestamp::from_unix_secs(1_614_265_330 + 300);
    assert!(verifier.check_headers(&headers(), edge).is_ok(), "exactly the tolerance is inside the window");
}

#[test]
fn the_window_is_the_widest_keys() {
    let narrow = Webhook::new(SECRET).unwrap().with_tolerance(Duration::from_secs(10));
    let wide = Webhook::new(OTHER_SECRET).unwrap().with_tolerance(Duration::from_secs(600));
    assert_eq!(widest_tolerance(&[narrow.clone(), wide.clone()]), Duration::from_secs(600));
    assert_eq!(widest_tolerance(&[]), webhook_signature::DEFAULT_TOLERANCE);
    let verifier = StaticKeys::new(vec![narrow, wide]).unwrap();
    assert!(verifier.check_headers(&headers(), Timestamp::from_unix_secs(1_614_265_330 + 500)).is_ok());
}

#[test]
fn core_errors_are_classified_and_labelled() {
    let cases = [
        (Error::MissingHeader(HeaderName::Signature), Failure::Malformed, Reason::MissingHeader),
        (Error::InvalidHeader(HeaderName::Id), Failure::Malformed, Reason::InvalidHeader),
        (Error::InvalidTimestamp, Failure::Malformed, Reason::InvalidTimestamp),
        (Error::TimestampTooOld, Failure::Unauthenticated, Reason::StaleTimestamp),
        (Error::TimestampTooNew, Failure::Unauthenticated, Reason::StaleTimestamp),
        (Error::NoSupportedSignature, Failure::Unauthenticated, Reason::NoMatchingSignature),
        (Error::NoMatchingSignature, Failure::Unauthenticated, Reason::NoMatchingSignature),
        (Error::InvalidSecret, Failure::Unauthenticated, Reason::Other),
    ];
    for (i, (core, kind, label)) in cases.into_iter().enumerate() {
        let error = VerifyError::from(core);
        assert_eq!((error.kind(), error.label()), (kind, label), "#{i}: {core:?}");
        assert_eq!(error.to_string(), core.to_string(), "#{i}: the logs get the core's message");
    }
}

#[test]
fn a_verifiers_own_refusals_are_labelled_by_their_failure() {
    let unavailable = VerifyError::new(Failure::Unavailable, "no keys");
    assert_eq!((unavailable.label(), unavailable.to_string()), (Reason::Unavailable, "no keys".to_owned()));
    let other = VerifyError::new(Failure::Unauthenticated, "bad token");
    assert_eq!(other.label(), Reason::Other);
    assert_eq!(other.with_label(Reason::InvalidToken).label(), Reason::InvalidToken);
}

#[test]
fn reason_names_are_distinct_snake_case() {
    let names: Vec<&str> = Reason::ALL.iter().map(|reason| reason.as_str()).collect();
    for (i, name) in names.iter().enumerate() {
        assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{name}");
        assert!(!names[..i].contains(name), "{name} twice");
        assert_eq!(Reason::ALL[i].to_string(), *name);
    }
}
