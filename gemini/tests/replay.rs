//! Replays of dynamic deliveries: a token resent under a new `webhook-id`
//! with a fresh timestamp has the same replay key; the token's age by `iat`.
//! Keys: the committed fixtures in `tests/fixtures/jwt`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use webhook_signature::{Headers, Timestamp, Webhook};
use webhook_signature_gemini::{Claim, DynamicVerifier, Error, Receiver, ReplayKey, ReplaySource};

fn receiver() -> Receiver {
    Receiver::new(vec![Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()])
        .with_dynamic(DynamicVerifier::new([AUDIENCE]))
}

/// The delivery's replay key, sent with `id` at `secs` after NOW.
fn replay_key(token: &str, body: &[u8], id: &str, secs: u64) -> Result<ReplayKey, Error> {
    let timestamp = (NOW + secs).to_string();
    let headers = Headers { id, timestamp: &timestamp, signature: token };
    let now = Timestamp::from_unix_secs(NOW + secs);
    let delivery = receiver().verify(&headers, body, now, Some(&jwks(JWKS_A)))?;
    Ok(delivery.replay_key().expect("a dynamic delivery has a replay key"))
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

#[test]
fn a_resent_token_has_the_same_key_under_any_id_and_timestamp() {
    let token = token(&claims());
    let first = replay_key(&token, BODY, "msg_first", 0).unwrap();
    // Captured and resent two minutes later, as a new message with a fresh timestamp: it verifies.
    let resent = replay_key(&token, BODY, "msg_attacker_1", 120).unwrap();
    let again = replay_key(&token, BODY, "msg_attacker_2", 240).unwrap();
    assert_eq!((first, first), (resent, again));
    // A new token for the same event (a retry Google signs again) is another key:
    // the webhook-id, which Standard Webhooks keeps across retries, dedupes it.
    let retry = self::token(&with(claims(), "iat", json!(NOW + 1)));
    assert_ne!(replay_key(&retry, BODY, "msg_first", 0).unwrap(), first);
}

#[test]
fn without_jti_the_body_is_part_of_the_key() {
    let token = token(&claims());
    let verified =
        DynamicVerifier::new([AUDIENCE]).verify(&headers(&token), BODY, now(), &jwks(JWKS_A)).unwrap();
    assert_eq!(verified.replay_source, ReplaySource::SignatureAndBody);
    // A bearer token reused with another event is not taken for a replay.
    let other = replay_key(&token, br#"{"type":"batch.succeeded"}"#, "msg_other", 0).unwrap();
    assert_ne!(other, verified.replay_key);
}

#[test]
fn a_token_that_binds_the_body_is_one_delivery_however_the_body_is_spelled() {
    // An embedded event binds a body with the same JSON: resent re-serialised,
    // it is still bound, so it must still be the same delivery.
    let event: Value = serde_json::from_slice(BODY).unwrap();
    let token = token(&with(claims(), "event", event.clone()));
    let first = replay_key(&token, BODY, "msg_1", 0).unwrap();
    let respelled = serde_json::to_vec_pretty(&event).unwrap();
    assert_ne!(respelled, BODY);
    assert_eq!(replay_key(&token, &respelled, "msg_2", 60).unwrap(), first);
    let verified =
        DynamicVerifier::new([AUDIENCE]).verify(&headers(&token), BODY, now(), &jwks(JWKS_A)).unwrap();
    assert_eq!(verified.replay_source, ReplaySource::Signature);
}

#[test]
fn with_jti_the_token_is_used_once() {
    let token = token(&with(claims(), "jti", json!("3f0c2a1e-0001")));
    let first = replay_key(&token, BODY, "msg_1", 0).unwrap();
    let other_body = replay_key(&token, br#"{"type":"batch.succeeded"}"#, "msg_2", 60).unwrap();
    assert_eq!(first, other_body);
    let verified =
        DynamicVerifier::new([AUDIENCE]).verify(&headers(&token), BODY, now(), &jwks(JWKS_A)).unwrap();
    assert_eq!(verified.replay_source, ReplaySource::TokenId);
    // Another jti, or the same jti from another issuer, is another key.
    let next = self::token(&with(claims(), "jti", json!("3f0c2a1e-0002")));
    assert_ne!(replay_key(&next, BODY, "msg_3", 0).unwrap(), first);
    let elsewhere =
        self::token(&with(with(claims(), "jti", json!("3f0c2a1e-0001")), "iss", json!("https://x")));
    assert_ne!(replay_key(&elsewhere, BODY, "msg_4", 0).unwrap(), first);
}

#[test]
fn jti_must_be_a_non_empty_string() {
    for jti in [json!(""), json!(7), json!(["a"]), json!({"id": "a"})] {
        let token = token(&with(claims(), "jti", jti.clone()));
        assert_eq!(replay_key(&token, BODY, ID, 0), Err(Error::InvalidClaim(Claim::Jti)), "{jti}");
    }
}

#[test]
fn static_deliveries_have_no_replay_key() {
    let signature =
        Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap().sign(ID, now(), BODY).unwrap();
    let delivery = receiver().verify(&headers(signature.as_str()), BODY, now(), None).unwrap();
    assert_eq!(delivery.replay_key(), None);
    assert_eq!(delivery.verified.replay_key(), None);
}

#[test]
fn the_key_is_stable_across_versions() {
    // Pinned, so a stored key keeps matching after an upgrade: SHA-256 over
    // "webhook-signature-gemini replay v1 jti\0", 8-byte big-endian lengths,
    // iss and jti, computed independently with Python's hashlib:
    // hashlib.sha256(b"webhook-signature-gemini replay v1 jti\0" + len(iss).to_bytes(8, "big")
    //     + iss + len(jti).to_bytes(8, "big") + jti).hexdigest()
    let token = token(&with(claims(), "jti", json!("3f0c2a1e-0001")));
    let key = replay_key(&token, BODY, ID, 0).unwrap();
    assert_eq!(key.to_string(), JTI_KEY_HEX);
    assert_eq!(ReplayKey::from_bytes(*key.as_bytes()), key);
}

/// iss = "https://generativelanguage.googleapis.com", jti = "3f0c2a1e-0001".
const JTI_KEY_HEX: &str = "c4c08a967089215cfd460763403f88fe87520b59f4731f02fc176eeb3388bd73";

#[test]
fn tokens_older_than_a_day_by_iat_are_refused_by_default() {
    let verify = |verifier: &DynamicVerifier, claims: &Value| {
        verifier.verify(&headers(&token(claims)), BODY, now(), &jwks(JWKS_A)).map(drop)
    };
    let day = 24 * 60 * 60;
    let aged = |age: u64| with(with(claims(), "iat", json!(NOW - age)), "exp", json!(NOW + 300));
    assert!(verify(&DynamicVerifier::new([AUDIENCE]), &aged(day + 60)).is_ok(), "within the leeway");
    assert_eq!(verify(&DynamicVerifier::new([AUDIENCE]), &aged(day + 61)), Err(Error::TokenTooOld));
    assert!(verify(&DynamicVerifier::new([AUDIENCE]).without_max_age(), &aged(day + 61)).is_ok());
    // Without iat, the default does not apply; an explicit maximum requires it.
    let mut no_iat = claims();
    no_iat.as_object_mut().unwrap().remove("iat");
    assert!(verify(&DynamicVerifier::new([AUDIENCE]), &no_iat).is_ok());
    let explicit = DynamicVerifier::new([AUDIENCE]).with_max_age(Duration::from_secs(600));
    assert_eq!(verify(&explicit, &no_iat), Err(Error::MissingClaim(Claim::Iat)));
    assert_eq!(DynamicVerifier::DEFAULT_MAX_AGE, Duration::from_secs(day));
}
