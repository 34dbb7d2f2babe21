//! Verification does not depend on jsonwebtoken's process-wide crypto
//! provider. This test binary has jsonwebtoken with both of its backends
//! (`aws_lc_rs` and `rust_crypto`, see the dev-dependencies), as a binary gets
//! when another of its crates enables `rust_crypto`: jsonwebtoken's own
//! verification then panics on every call, and ours still verifies.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use serde_json::json;
use webhook_signature_gemini::{DynamicVerifier, Error};

#[test]
fn tokens_verify_with_both_jsonwebtoken_backends_in_the_binary() {
    let token = token(&claims());
    let verifier = DynamicVerifier::new([AUDIENCE]);
    let verified = verifier.verify(&headers(&token), BODY, now(), &jwks(JWKS_A)).unwrap();
    assert_eq!(verified.kid, "demo-a");
    // Still a real check: a token signed by another key fails.
    let forged = token_with(&json!({"alg": "RS256", "kid": "demo-a"}), &claims(), KEY_B);
    assert_eq!(
        verifier.verify(&headers(&forged), BODY, now(), &jwks(JWKS_A)).err(),
        Some(Error::BadSignature)
    );
}

#[test]
fn jsonwebtoken_itself_cannot_choose_a_backend_here() {
    // What verification through jsonwebtoken::crypto::verify would meet in
    // such a binary: its provider lookup panics. (If a later jsonwebtoken
    // resolves the ambiguity, this test says so and can go.)
    let (input, signature) =
        token(&claims()).rsplit_once('.').map(|(a, b)| (a.to_owned(), b.to_owned())).unwrap();
    let key = &serde_json::from_str::<serde_json::Value>(JWKS_A).unwrap()["keys"][0];
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let outcome = std::panic::catch_unwind(|| {
        jsonwebtoken::crypto::verify(&signature, input.as_bytes(), &key, jsonwebtoken::Algorithm::RS256)
    });
    assert!(outcome.is_err(), "jsonwebtoken picked a backend: {outcome:?}");
}
