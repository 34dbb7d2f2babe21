//! One receiver call for both modes: routing by the signature's shape.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use webhook_signature::{Error as CoreError, Headers, Timestamp, Webhook};
use webhook_signature_gemini::{Authenticated, DynamicVerifier, Error, Event, Mode, Receiver};

// The Standard Webhooks spec's example secret (standard-webhooks, spec/standard-webhooks.md).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PREVIOUS: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn receiver() -> Receiver {
    Receiver::new(vec![Webhook::new(SECRET).unwrap(), Webhook::new(PREVIOUS).unwrap()])
        .with_dynamic(DynamicVerifier::new([AUDIENCE]))
}

fn signed(secret: &str) -> String {
    Webhook::new(secret).unwrap().sign(ID, now(), BODY).unwrap().to_string()
}

#[test]
fn static_delivery_reports_the_key() {
    let signature = signed(PREVIOUS);
    let delivery = receiver().verify(&headers(&signature), BODY, now(), None).unwrap();
    assert_eq!(delivery.verified.mode, Mode::Static { key: 1 });
    assert_eq!(delivery.verified.authenticated, Authenticated::Signature);
    assert_eq!(delivery.id, ID);
    assert_eq!(delivery.timestamp, now());
    assert!(matches!(delivery.verified.envelope.unwrap().event, Event::VideoGenerated(_)));
}

#[test]
fn static_failures_are_the_core_errors() {
    let signature = signed(SECRET);
    let tampered = receiver().verify(&headers(&signature), b"{}", now(), None);
    assert_eq!(tampered.err(), Some(Error::Webhook(CoreError::NoMatchingSignature)));
    let stale = receiver().verify(&headers(&signature), BODY, Timestamp::from_unix_secs(NOW + 301), None);
    assert_eq!(stale.err(), Some(Error::Webhook(CoreError::TimestampTooOld)));
}

#[test]
fn dynamic_delivery_is_a_bearer_token_unless_bound() {
    let token = token(&claims());
    let delivery = receiver().verify(&headers(&token), BODY, now(), Some(&jwks(JWKS_A))).unwrap();
    assert_eq!(delivery.verified.authenticated, Authenticated::BearerToken);
    assert_eq!(delivery.verified.authenticated.as_str(), "bearer-token");
    let Mode::Dynamic(verified) = delivery.verified.mode else { panic!("not dynamic") };
    assert_eq!(verified.kid, "demo-a");
}

#[test]
fn dynamic_needs_configuration_and_keys() {
    let token = token(&claims());
    let static_only = Receiver::new(vec![Webhook::new(SECRET).unwrap()]);
    assert_eq!(
        static_only.verify(&headers(&token), BODY, now(), None).err(),
        Some(Error::DynamicNotConfigured)
    );
    assert_eq!(receiver().verify(&headers(&token), BODY, now(), None).err(), Some(Error::KeysUnavailable));
    // A JWT is never fed to the HMAC path, and a v1 entry never to the JWT path.
    assert!(!Receiver::is_dynamic(&headers(&signed(SECRET))));
    assert!(Receiver::is_dynamic(&headers(&token)));
}

#[test]
fn authentic_body_that_is_not_an_envelope() {
    let body = b"\x00\x01 not json";
    let signature = Webhook::new(SECRET).unwrap().sign(ID, now(), body).unwrap().to_string();
    let delivery = receiver().verify(&headers(&signature), body, now(), None).unwrap();
    assert!(delivery.verified.envelope.is_err());
}

#[test]
fn missing_signature_header() {
    let headers = Headers { signature: "", ..headers("") };
    assert!(matches!(
        receiver().verify(&headers, BODY, now(), None),
        Err(Error::Webhook(CoreError::MissingHeader(_)))
    ));
}
