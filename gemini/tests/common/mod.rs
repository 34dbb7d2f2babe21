//! Shared fixtures: the committed demo keys (`tests/fixtures/jwt`, see its
//! README for how they were made) and helpers to mint tokens.
#![allow(dead_code, unreachable_pub)]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use serde_json::{Value, json};
use webhook_signature::{Headers, Timestamp};
use webhook_signature_gemini::Jwks;

pub const KEY_A: &str = include_str!("../fixtures/jwt/demo-2048-a.pem");
pub const KEY_B: &str = include_str!("../fixtures/jwt/demo-2048-b.pem");
pub const JWKS_A: &str = include_str!("../fixtures/jwt/jwks-a.json");
pub const JWKS_AB: &str = include_str!("../fixtures/jwt/jwks-ab.json");
pub const JWKS_MIXED: &str = include_str!("../fixtures/jwt/jwks-mixed.json");

pub const AUDIENCE: &str = "https://receiver.example/webhooks/gemini";
pub const NOW: u64 = 1_790_000_000;
pub const ID: &str = "msg_2Lr4Kk0dynamic";
pub const BODY: &[u8] = br#"{"type":"video.generated","version":"v1","data":{"id":"op1","output_file_uri":"https://x/y","file_name":"files/y"}}"#;

pub fn now() -> Timestamp {
    Timestamp::from_unix_secs(NOW)
}

pub fn jwks(document: &str) -> Jwks {
    Jwks::parse(document.as_bytes()).unwrap()
}

/// Claims a Gemini token plausibly carries: `aud`, `iat` = now, `exp` = now + 300.
pub fn claims() -> Value {
    json!({"aud": AUDIENCE, "iat": NOW, "exp": NOW + 300, "iss": "https://generativelanguage.googleapis.com"})
}

/// A token with any header and claims, RS256-signed with `pem` whatever the header says.
pub fn token_with(header: &Value, claims: &Value, pem: &str) -> String {
    let encode = |value: &Value| Base64UrlUnpadded::encode_string(value.to_string().as_bytes());
    let input = format!("{}.{}", encode(header), encode(claims));
    let mut signature = vec![0; 256];
    rsa_key(pem).sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut signature).unwrap();
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature))
}

/// A 2048-bit PKCS#8 PEM key (`openssl genpkey` writes them so).
pub fn rsa_key(pem: &str) -> RsaKeyPair {
    let body = pem.split("-----").nth(2).unwrap();
    let der = Base64::decode_vec(&body.split_whitespace().collect::<String>()).unwrap();
    RsaKeyPair::from_pkcs8(&der).unwrap()
}

/// A valid token for `claims`, signed by demo key A as `demo-a`.
pub fn token(claims: &Value) -> String {
    token_with(&json!({"alg": "RS256", "typ": "JWT", "kid": "demo-a"}), claims, KEY_A)
}

pub fn headers(signature: &str) -> Headers<'_> {
    Headers { id: ID, timestamp: "1790000000", signature }
}
