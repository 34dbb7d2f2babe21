//! Authorization beyond `aud`: required claim values, a claims predicate, and
//! per-job capabilities in the webhook URI.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};
use webhook_signature_gemini::{CapabilityError, DynamicVerifier, Error, JobCapabilities};

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn check(verifier: &DynamicVerifier, claims: &Value) -> Result<(), Error> {
    verifier.verify(&headers(&token(claims)), BODY, now(), &jwks(JWKS_A)).map(drop)
}

const ACCOUNT: &str = "gemini-webhooks@project.iam.gserviceaccount.com";

#[test]
fn required_claim_values() {
    let verifier = DynamicVerifier::new([AUDIENCE]).require_claim("email", ACCOUNT);
    assert!(check(&verifier, &with(claims(), "email", json!(ACCOUNT))).is_ok());
    assert_eq!(
        check(&verifier, &with(claims(), "email", json!("someone@else"))),
        Err(Error::ClaimNotAccepted)
    );
    assert_eq!(check(&verifier, &claims()), Err(Error::ClaimNotAccepted), "absent");
    // JSON equality: a string is not a number, and every requirement must hold.
    let both = verifier.clone().require_claim("tier", 2);
    let good = with(with(claims(), "email", json!(ACCOUNT)), "tier", json!(2));
    assert!(check(&both, &good).is_ok());
    assert_eq!(check(&both, &with(good, "tier", json!("2"))), Err(Error::ClaimNotAccepted));
}

#[test]
fn a_claims_predicate_runs_on_verified_claims_only() {
    let verifier = DynamicVerifier::new([AUDIENCE])
        .with_claims_check(|claims| claims.get("email_verified") == Some(&Value::Bool(true)));
    assert!(check(&verifier, &with(claims(), "email_verified", json!(true))).is_ok());
    assert_eq!(check(&verifier, &claims()), Err(Error::ClaimNotAccepted));
    // A forged token never reaches the predicate: the signature fails first.
    let forged = token_with(
        &json!({"alg": "RS256", "kid": "demo-a"}),
        &with(claims(), "email_verified", json!(true)),
        KEY_B,
    );
    let result = verifier.verify(&headers(&forged), BODY, now(), &jwks(JWKS_A));
    assert_eq!(result.err(), Some(Error::BadSignature));
}

#[test]
fn capability_known_answer() {
    // HMAC-SHA256 under 32 bytes of 0x07 over "webhook-signature-gemini job capability v1\0job-42",
    // computed independently with Python's hmac module, base64url without padding.
    let capabilities = JobCapabilities::new(&[7; 32]).unwrap();
    let capability = capabilities.issue_for("job-42").unwrap();
    assert_eq!(capability.as_str(), "job-42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU");
    assert_eq!(capability.nonce(), "job-42");
    assert_eq!(capabilities.check(capability.as_str()), Ok("job-42"));
}

#[test]
fn issued_capabilities_check_in_a_path_or_a_query() {
    let capabilities = JobCapabilities::new(b"0123456789abcdef0123456789abcdef").unwrap();
    let issued = capabilities.issue().unwrap();
    assert_eq!(issued.nonce().len(), 22, "128 random bits");
    assert_ne!(capabilities.issue().unwrap(), issued, "a new nonce each time");
    let path = format!("/webhooks/gemini/{issued}");
    let segment = path.strip_prefix("/webhooks/gemini/").unwrap();
    assert_eq!(capabilities.check(segment), Ok(issued.nonce()));
    let query = format!("t={issued}");
    assert_eq!(capabilities.check(query.strip_prefix("t=").unwrap()), Ok(issued.nonce()));
    assert!(!format!("{issued:?}").contains(issued.as_str()), "Debug shows the nonce only");
}

#[test]
fn bad_capabilities_are_refused() {
    let capabilities = JobCapabilities::new(&[7; 32]).unwrap();
    let good = "job-42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU";
    // Another secret issued it (a job someone else created, or a guess).
    let other = JobCapabilities::new(&[8; 32]).unwrap().issue_for("job-42").unwrap();
    assert_eq!(capabilities.check(other.as_str()), Err(CapabilityError::Mismatch));
    // The tag of one nonce with another nonce.
    assert_eq!(capabilities.check(&good.replacen("job-42", "job-43", 1)), Err(CapabilityError::Mismatch));
    for malformed in [
        "",
        "job-42",
        ".ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU",
        "job-42.",
        "job-42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzgh", // short
        "job-42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU=", // padded
        "job-42.ySfUnIa+1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU", // base64, not base64url
        "job-42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghV", // non-canonical last character
        "job 42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU",
        "job-42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU.x",
    ] {
        assert_eq!(capabilities.check(malformed), Err(CapabilityError::Malformed), "{malformed:?}");
    }
    assert!(capabilities.check(good).is_ok());
    assert_eq!(JobCapabilities::new(&[7; 31]).err(), Some(CapabilityError::ShortSecret));
    for nonce in ["", "a.b", "a/b", &"n".repeat(65)] {
        assert_eq!(capabilities.issue_for(nonce).err(), Some(CapabilityError::InvalidNonce), "{nonce:?}");
    }
    assert!(capabilities.issue_for(&"n".repeat(64)).is_ok());
    assert_eq!(format!("{capabilities:?}"), "JobCapabilities { key: [REDACTED] }");
}

#[test]
fn per_job_uris_under_one_endpoint() {
    let base = "https://receiver.example/webhooks/gemini";
    let verifier = DynamicVerifier::new(Vec::<String>::new()).with_audience_prefix(base);
    let aud = |aud: &str| check(&verifier, &with(claims(), "aud", json!(aud)));
    for accepted in [base.to_owned(), format!("{base}/job-42.tag"), format!("{base}?t=job-42.tag")] {
        assert!(aud(&accepted).is_ok(), "{accepted}");
    }
    for refused in [
        "https://receiver.example/webhooks/gemini-evil/x",
        "https://receiver.example/webhooks/geminiX",
        "https://receiver.example/webhooks",
        "https://attacker.example/webhooks/gemini/x",
    ] {
        assert_eq!(aud(refused), Err(Error::WrongAudience), "{refused}");
    }
    let host = DynamicVerifier::new(Vec::<String>::new()).with_audience_prefix("https://receiver.example");
    let spoof = with(claims(), "aud", json!("https://receiver.example.evil.com/x"));
    assert_eq!(check(&host, &spoof), Err(Error::WrongAudience));
}
