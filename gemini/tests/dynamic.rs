//! Dynamic (RS256 JWT) verification: every rejection, and what is authenticated.
//! Keys: the committed fixtures in `tests/fixtures/jwt`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use webhook_signature::{Error as CoreError, HeaderName, Headers, Timestamp};
use webhook_signature_gemini::jwks::SkipReason;
use webhook_signature_gemini::{BodyBinding, Claim, DynamicVerifier, Error, Malformed};

fn verifier() -> DynamicVerifier {
    DynamicVerifier::new([AUDIENCE])
}

fn check(verifier: &DynamicVerifier, token: &str) -> Result<BodyBinding, Error> {
    verifier.verify(&headers(token), BODY, now(), &jwks(JWKS_AB)).map(|verified| verified.body)
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

#[test]
fn valid_token_authenticates_the_sender_only() {
    let verified = verifier().verify(&headers(&token(&claims())), BODY, now(), &jwks(JWKS_A)).unwrap();
    assert_eq!(verified.kid, "demo-a");
    assert_eq!(verified.body, BodyBinding::BearerToken);
    assert_eq!(verified.claims["aud"], AUDIENCE);
}

#[test]
fn token_binding_the_body_by_digest() {
    // SHA-256 of BODY, hex: computed by `printf %s "$BODY" | sha256sum`.
    let digest: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(BODY).iter().map(|b| format!("{b:02x}")).collect()
    };
    let bound = check(&verifier(), &token(&with(claims(), "body_sha256", json!(digest)))).unwrap();
    assert_eq!(bound, BodyBinding::Bound { claim: "body_sha256".into() });
    // The same token with another body: its body_sha256 proves tampering.
    let other = verifier().verify(
        &headers(&token(&with(claims(), "body_sha256", json!(digest)))),
        b"{}",
        now(),
        &jwks(JWKS_A),
    );
    assert_eq!(other.err(), Some(Error::BodyMismatch));
    // A claim not named as a digest decides nothing, whatever its value looks like.
    let jti = verifier()
        .verify(&headers(&token(&with(claims(), "jti", json!(digest)))), b"{}", now(), &jwks(JWKS_A))
        .unwrap();
    assert_eq!(jti.body, BodyBinding::BearerToken);
}

#[test]
fn a_bound_body_can_be_required() {
    let strict = verifier().require_bound_body();
    let unbound = strict.verify(&headers(&token(&claims())), BODY, now(), &jwks(JWKS_A));
    assert_eq!(unbound.err(), Some(Error::BodyNotBound));
    let digest: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(BODY).iter().map(|b| format!("{b:02x}")).collect()
    };
    let bound = strict.verify(
        &headers(&token(&with(claims(), "body_sha256", json!(digest)))),
        BODY,
        now(),
        &jwks(JWKS_A),
    );
    assert!(bound.is_ok());
}

#[test]
fn token_embedding_the_event() {
    let event: Value = serde_json::from_slice(BODY).unwrap();
    let bound = check(&verifier(), &token(&with(claims(), "event", event))).unwrap();
    assert_eq!(bound, BodyBinding::Bound { claim: "event".into() });
}

#[test]
fn second_key_after_rotation() {
    let header = json!({"alg": "RS256", "kid": "demo-b"});
    assert!(check(&verifier(), &token_with(&header, &claims(), KEY_B)).is_ok());
    let result =
        verifier().verify(&headers(&token_with(&header, &claims(), KEY_B)), BODY, now(), &jwks(JWKS_A));
    assert_eq!(result.err(), Some(Error::UnknownKeyId));
}

#[test]
fn length_is_checked_before_parsing() {
    let long = format!("{}.e30.e30", "A".repeat(9000));
    assert_eq!(check(&verifier(), &long), Err(Error::TokenTooLong));
}

#[test]
fn malformed_tokens() {
    assert_eq!(check(&verifier(), "e30.e30"), Err(Error::MalformedToken(Malformed::Segments)));
    assert_eq!(check(&verifier(), "e3%.e30.c2ln"), Err(Error::MalformedToken(Malformed::Base64)));
    assert_eq!(
        check(&verifier(), "e31.e30.c2ln"),
        Err(Error::MalformedToken(Malformed::Base64)),
        "trailing bits"
    );
    let good = token(&claims());
    let (signed, _) = good.rsplit_once('.').unwrap();
    assert_eq!(check(&verifier(), &format!("{signed}.%%%")), Err(Error::BadSignature));
    assert_eq!(check(&verifier(), "bm90IGpzb24.e30.c2ln"), Err(Error::MalformedToken(Malformed::Header)));
    let header = json!({"alg": "RS256", "kid": 7});
    assert_eq!(
        check(&verifier(), &token_with(&header, &claims(), KEY_A)),
        Err(Error::MalformedToken(Malformed::Header))
    );
}

#[test]
fn every_other_algorithm_is_rejected_before_rsa() {
    // Each is RS256-signed by the real key, so only the header's alg is wrong.
    for alg in [
        json!("none"),
        json!("HS256"),
        json!("RS384"),
        json!("RS512"),
        json!("PS256"),
        json!("ES256"),
        json!("rs256"),
        json!(null),
    ] {
        let token = token_with(&json!({"alg": alg, "kid": "demo-a"}), &claims(), KEY_A);
        assert_eq!(check(&verifier(), &token), Err(Error::UnsupportedAlgorithm), "{alg}");
    }
    let missing = token_with(&json!({"kid": "demo-a"}), &claims(), KEY_A);
    assert_eq!(check(&verifier(), &missing), Err(Error::UnsupportedAlgorithm));
    // alg none with an empty signature, as an attacker sends it.
    let none = format!(
        "{}.",
        token_with(&json!({"alg": "none", "kid": "demo-a"}), &claims(), KEY_A).rsplit_once('.').unwrap().0
    );
    assert_eq!(check(&verifier(), &none), Err(Error::UnsupportedAlgorithm));
}

#[test]
fn crit_and_kid() {
    let crit = token_with(&json!({"alg": "RS256", "kid": "demo-a", "crit": ["exp"]}), &claims(), KEY_A);
    assert_eq!(check(&verifier(), &crit), Err(Error::CriticalHeader));
    let no_kid = token_with(&json!({"alg": "RS256"}), &claims(), KEY_A);
    assert_eq!(check(&verifier(), &no_kid), Err(Error::MissingKeyId));
    let unknown = token_with(&json!({"alg": "RS256", "kid": "nope"}), &claims(), KEY_A);
    assert_eq!(check(&verifier(), &unknown), Err(Error::UnknownKeyId));
}

#[test]
fn signatures() {
    // Signed by key B but naming key A.
    let wrong_key = token_with(&json!({"alg": "RS256", "kid": "demo-a"}), &claims(), KEY_B);
    assert_eq!(check(&verifier(), &wrong_key), Err(Error::BadSignature));
    // Claims swapped after signing.
    let good = token(&claims());
    let (header, rest) = good.split_once('.').unwrap();
    let signature = rest.split_once('.').unwrap().1;
    let forged_claims = token(&with(claims(), "aud", json!([AUDIENCE, "x"])));
    let forged_claims = forged_claims.split('.').nth(1).unwrap();
    assert_eq!(
        check(&verifier(), &format!("{header}.{forged_claims}.{signature}")),
        Err(Error::BadSignature)
    );
    // One signature character changed, and a signature cut short.
    let mut flipped = good.clone().into_bytes();
    let middle = flipped.len() - 100;
    flipped[middle] = if flipped[middle] == b'A' { b'B' } else { b'A' };
    assert_eq!(check(&verifier(), &String::from_utf8(flipped).unwrap()), Err(Error::BadSignature));
    assert_eq!(check(&verifier(), &good[..good.len() - 2]), Err(Error::BadSignature));
}

#[test]
fn expiry_with_leeway() {
    let expired_at = |exp: u64| check(&verifier(), &token(&with(claims(), "exp", json!(exp))));
    assert!(expired_at(NOW - 60).is_ok(), "within the 60 s leeway");
    assert_eq!(expired_at(NOW - 61), Err(Error::Expired));
    assert_eq!(check(&verifier(), &token(&without(claims(), "exp"))), Err(Error::MissingClaim(Claim::Exp)));
    assert_eq!(
        check(&verifier(), &token(&with(claims(), "exp", json!("soon")))),
        Err(Error::InvalidClaim(Claim::Exp))
    );
    assert!(check(&verifier(), &token(&with(claims(), "exp", json!(1.79e9 + 100.5)))).is_ok(), "fractional");
    assert_eq!(check(&verifier(), &token(&with(claims(), "exp", json!(-5)))), Err(Error::Expired));
    let strict = verifier().with_leeway(Duration::ZERO);
    assert_eq!(check(&strict, &token(&with(claims(), "exp", json!(NOW - 1)))), Err(Error::Expired));
}

#[test]
fn missing_exp_only_with_max_age() {
    let lenient = verifier().allow_missing_exp(Duration::from_secs(600));
    assert!(check(&lenient, &token(&without(claims(), "exp"))).is_ok());
    let old = with(without(claims(), "exp"), "iat", json!(NOW - 661));
    assert_eq!(check(&lenient, &token(&old)), Err(Error::TokenTooOld));
    let no_iat = without(without(claims(), "exp"), "iat");
    assert_eq!(check(&lenient, &token(&no_iat)), Err(Error::MissingClaim(Claim::Iat)));
}

#[test]
fn nbf_and_iat() {
    assert!(check(&verifier(), &token(&with(claims(), "nbf", json!(NOW + 60)))).is_ok());
    assert_eq!(check(&verifier(), &token(&with(claims(), "nbf", json!(NOW + 61)))), Err(Error::NotYetValid));
    assert_eq!(
        check(&verifier(), &token(&with(claims(), "iat", json!(NOW + 61)))),
        Err(Error::IssuedInFuture)
    );
    let aged = verifier().with_max_age(Duration::from_secs(100));
    assert!(check(&aged, &token(&with(claims(), "iat", json!(NOW - 160)))).is_ok());
    assert_eq!(check(&aged, &token(&with(claims(), "iat", json!(NOW - 161)))), Err(Error::TokenTooOld));
}

#[test]
fn audience() {
    let aud = |value: Value| check(&verifier(), &token(&with(claims(), "aud", value)));
    assert!(aud(json!(["other", AUDIENCE])).is_ok());
    assert_eq!(aud(json!("https://attacker.example/hook")), Err(Error::WrongAudience));
    assert_eq!(aud(json!([])), Err(Error::WrongAudience));
    assert_eq!(aud(json!(42)), Err(Error::InvalidClaim(Claim::Aud)));
    assert_eq!(aud(json!([AUDIENCE, 1])), Err(Error::InvalidClaim(Claim::Aud)));
    assert_eq!(check(&verifier(), &token(&without(claims(), "aud"))), Err(Error::MissingClaim(Claim::Aud)));
    let several = DynamicVerifier::new(["a"]).with_audience("b");
    assert!(check(&several, &token(&with(claims(), "aud", json!("b")))).is_ok());
    let none = DynamicVerifier::new(Vec::<String>::new());
    assert_eq!(check(&none, &token(&claims())), Err(Error::WrongAudience));
    let any = DynamicVerifier::insecure_accept_any_audience();
    assert!(check(&any, &token(&with(claims(), "aud", json!("whatever")))).is_ok());
}

#[test]
fn issuer() {
    let google = verifier().with_issuer("https://generativelanguage.googleapis.com");
    assert!(check(&google, &token(&claims())).is_ok());
    assert_eq!(
        check(&google, &token(&with(claims(), "iss", json!("https://evil")))),
        Err(Error::WrongIssuer)
    );
    assert_eq!(check(&google, &token(&without(claims(), "iss"))), Err(Error::MissingClaim(Claim::Iss)));
    assert_eq!(
        check(&google, &token(&with(claims(), "iss", json!(1)))),
        Err(Error::InvalidClaim(Claim::Iss))
    );
    assert!(check(&verifier(), &token(&with(claims(), "iss", json!("anyone")))).is_ok(), "off by default");
}

#[test]
fn webhook_headers_as_on_the_static_path() {
    let token = token(&claims());
    let verify = |headers: Headers<'_>, verifier: &DynamicVerifier| {
        verifier.verify(&headers, BODY, now(), &jwks(JWKS_A))
    };
    let no_id = Headers { id: "", ..headers(&token) };
    assert_eq!(
        verify(no_id, &verifier()).err(),
        Some(Error::Webhook(CoreError::MissingHeader(HeaderName::Id)))
    );
    let no_ts = Headers { timestamp: "", ..headers(&token) };
    assert_eq!(
        verify(no_ts, &verifier()).err(),
        Some(Error::Webhook(CoreError::MissingHeader(HeaderName::Timestamp)))
    );
    let bad_ts = Headers { timestamp: "+1790000000", ..headers(&token) };
    assert_eq!(verify(bad_ts, &verifier()).err(), Some(Error::Webhook(CoreError::InvalidTimestamp)));
    let stale = Headers { timestamp: "1789999699", ..headers(&token) };
    assert_eq!(verify(stale, &verifier()).err(), Some(Error::Webhook(CoreError::TimestampTooOld)));
    let future = Headers { timestamp: "1790000301", ..headers(&token) };
    assert_eq!(verify(future, &verifier()).err(), Some(Error::Webhook(CoreError::TimestampTooNew)));
    assert!(verify(stale, &verifier().without_timestamp_window()).is_ok());
    assert!(verify(stale, &verifier().with_tolerance(Duration::from_secs(301))).is_ok());
}

#[test]
fn claims_apply_now_as_given() {
    let token = token(&claims());
    let later = Timestamp::from_unix_secs(NOW + 361);
    let headers = Headers { timestamp: "1790000361", ..headers(&token) };
    assert_eq!(verifier().verify(&headers, BODY, later, &jwks(JWKS_A)).err(), Some(Error::Expired));
}

#[test]
fn jwks_keeps_only_rs256_signing_keys() {
    let mixed = jwks(JWKS_MIXED);
    assert_eq!(mixed.kids().collect::<Vec<_>>(), ["demo-a", "no-alg"]);
    let reasons: Vec<_> = mixed.skipped().iter().map(|s| (s.kid.as_deref(), s.reason.clone())).collect();
    assert_eq!(
        reasons,
        [
            (Some("weak-1024"), SkipReason::Size(1024)),
            (Some("enc-key"), SkipReason::Use("enc".into())),
            (Some("rs512"), SkipReason::Algorithm("RS512".into())),
            (Some("ec"), SkipReason::KeyType("EC".into())),
            (None, SkipReason::MissingKeyId),
        ]
    );
    let duplicate =
        format!(r#"{{"keys":[{0},{0}]}}"#, serde_json::to_string(&jwks_value(JWKS_A)["keys"][0]).unwrap());
    assert_eq!(jwks(&duplicate).skipped()[0].reason, SkipReason::DuplicateKeyId);
    assert!(webhook_signature_gemini::Jwks::parse(b"[]").is_err());
    assert!(
        webhook_signature_gemini::Jwks::parse(br#"{"keys":[1,{"kty":"RSA","kid":"k","n":"!","e":"AQAB"}]}"#)
            .is_ok_and(|jwks| jwks.is_empty() && jwks.skipped().len() == 2)
    );
    // A token from the weak key is never checked: its kid is not kept.
    // (aws-lc refuses to sign with a 1024-bit key, so key A signs; the kid decides.)
    let weak = token_with(&json!({"alg": "RS256", "kid": "weak-1024"}), &claims(), KEY_A);
    assert_eq!(verifier().verify(&headers(&weak), BODY, now(), &mixed).err(), Some(Error::UnknownKeyId));
}

fn jwks_value(document: &str) -> Value {
    serde_json::from_str(document).unwrap()
}

#[test]
fn header_and_claims_must_be_json_objects() {
    // RS256-signed by the real key: only the JSON shape is wrong. serde reads a
    // struct from an array too, by position.
    let array_header = token_with(&json!(["RS256", "demo-a"]), &claims(), KEY_A);
    assert_eq!(check(&verifier(), &array_header), Err(Error::MalformedToken(Malformed::Header)));
    let header = json!({"alg": "RS256", "kid": "demo-a"});
    let array_claims = json!([NOW + 300, null, NOW, AUDIENCE, null, null]);
    assert_eq!(
        check(&verifier(), &token_with(&header, &array_claims, KEY_A)),
        Err(Error::MalformedToken(Malformed::Claims))
    );
    for not_object in [json!(null), json!("x"), json!(1)] {
        let token = token_with(&header, &not_object, KEY_A);
        assert_eq!(check(&verifier(), &token), Err(Error::MalformedToken(Malformed::Claims)), "{not_object}");
    }
    // Duplicate header members: which one counts would be the parser's choice.
    let duplicate = format!(
        "{}.{}",
        base64url(br#"{"alg":"RS256","kid":"demo-a","alg":"none"}"#),
        token(&claims()).split_once('.').unwrap().1
    );
    assert_eq!(check(&verifier(), &duplicate), Err(Error::MalformedToken(Malformed::Header)));
}

#[test]
fn crit_present_is_refused_even_when_null_or_empty() {
    for crit in [json!(null), json!([]), json!(["b64"])] {
        let token = token_with(&json!({"alg": "RS256", "kid": "demo-a", "crit": crit}), &claims(), KEY_A);
        assert_eq!(check(&verifier(), &token), Err(Error::CriticalHeader), "{crit}");
    }
}

#[test]
fn an_embedded_event_binds_only_through_its_named_claim() {
    let event: Value = serde_json::from_slice(BODY).unwrap();
    let data = serde_json::to_vec(&event["data"]).unwrap();
    let token = token(&with(claims(), "event", event.clone()));
    // Resent with the event's data as the body: an object claim member equals it, but binds nothing.
    let replayed = verifier().verify(&headers(&token), &data, now(), &jwks(JWKS_A)).unwrap();
    assert_eq!(replayed.body, BodyBinding::BearerToken);
    let strict = verifier().require_bound_body();
    assert_eq!(strict.verify(&headers(&token), &data, now(), &jwks(JWKS_A)).err(), Some(Error::BodyNotBound));
    assert!(strict.verify(&headers(&token), BODY, now(), &jwks(JWKS_A)).is_ok());
    // An event under a name not known to embed one binds nothing either.
    let unnamed = self::token(&with(claims(), "context", event));
    assert_eq!(check(&verifier(), &unnamed), Ok(BodyBinding::BearerToken));
}

#[test]
fn the_binding_claims_can_be_named() {
    let digest = base64url(&<sha2::Sha256 as sha2::Digest>::digest(BODY));
    let named = verifier().require_body_bound_by(["x-goog-body-sha256"]);
    let token = token(&with(claims(), "x_goog_body_sha256", json!(digest)));
    let bound = named.verify(&headers(&token), BODY, now(), &jwks(JWKS_A)).unwrap();
    assert_eq!(bound.body, BodyBinding::Bound { claim: "x_goog_body_sha256".into() });
    assert_eq!(named.verify(&headers(&token), b"{}", now(), &jwks(JWKS_A)).err(), Some(Error::BodyMismatch));
    // A known digest name is not one of the named claims: it binds nothing here.
    let known = self::token(&with(claims(), "body_sha256", json!(digest)));
    assert_eq!(named.verify(&headers(&known), BODY, now(), &jwks(JWKS_A)).err(), Some(Error::BodyNotBound));
}

#[test]
fn jwks_keys_that_cannot_verify_are_skipped_with_a_reason() {
    let key = &jwks_value(JWKS_A)["keys"][0];
    let n = key["n"].as_str().unwrap();
    let modulus = <base64ct::Base64UrlUnpadded as base64ct::Encoding>::decode_vec(n).unwrap();
    let padded_n = base64url(&[&[0_u8][..], &modulus].concat());
    let variant = |kid: &str, n: &str, e: &str| json!({"kty": "RSA", "kid": kid, "n": n, "e": e});
    let document = json!({"keys": [
        variant("even-e", n, "Ag"),        // e = 2
        variant("e-one", n, "AQ"),         // e = 1
        variant("e-zero-byte", n, "AAEAAQ"), // 65537 with a leading zero byte
        variant("e-huge", n, "AgAAAAE"),   // 2^33 + 1
        variant("n-zero-byte", &padded_n, "AQAB"),
        variant("twin", n, "AQAB"),
        variant("twin", n, "AQAB"),
        variant("ok", n, "AQAB"),
    ]});
    let parsed = jwks(&document.to_string());
    assert_eq!(parsed.kids().collect::<Vec<_>>(), ["ok"]);
    let reasons: Vec<_> =
        parsed.skipped().iter().map(|s| (s.kid.as_deref().unwrap(), s.reason.clone())).collect();
    assert_eq!(
        reasons,
        [
            ("even-e", SkipReason::Exponent),
            ("e-one", SkipReason::Exponent),
            ("e-zero-byte", SkipReason::NonMinimalEncoding),
            ("e-huge", SkipReason::Exponent),
            ("n-zero-byte", SkipReason::NonMinimalEncoding),
            ("twin", SkipReason::DuplicateKeyId),
            ("twin", SkipReason::DuplicateKeyId),
        ]
    );
    // A token naming the duplicated kid finds no key, whichever copy signed it.
    let twin = token_with(&json!({"alg": "RS256", "kid": "twin"}), &claims(), KEY_A);
    assert_eq!(verifier().verify(&headers(&twin), BODY, now(), &parsed).err(), Some(Error::UnknownKeyId));
    let ok = token_with(&json!({"alg": "RS256", "kid": "ok"}), &claims(), KEY_A);
    assert!(verifier().verify(&headers(&ok), BODY, now(), &parsed).is_ok());
}

fn base64url(bytes: &[u8]) -> String {
    use base64ct::Encoding;
    base64ct::Base64UrlUnpadded::encode_string(bytes)
}
