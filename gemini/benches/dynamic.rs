//! Dynamic (RS256 JWT) verification: one RSA-2048 verification, and the
//! rejections that must cost no RSA work. Keys: the committed fixtures in
//! `tests/fixtures/jwt`.
//!
//! `cargo bench -p webhook-signature-gemini --bench dynamic`

use std::hint::black_box;

use base64ct::{Base64UrlUnpadded, Encoding};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use webhook_signature::{Headers, Timestamp};
use webhook_signature_gemini::{DynamicVerifier, Jwks, TokenSigner};

const KEY_A: &str = include_str!("../tests/fixtures/jwt/demo-2048-a.pem");
const JWKS_A: &str = include_str!("../tests/fixtures/jwt/jwks-a.json");
const AUDIENCE: &str = "https://receiver.example/webhooks/gemini";
const NOW: u64 = 1_790_000_000;
const BODY: &[u8] = br#"{"type":"video.generated","version":"v1","data":{"id":"op1"}}"#;

fn token(claims: Value) -> String {
    let signer = TokenSigner::from_pem(KEY_A.as_bytes(), "demo-a").expect("fixture key");
    signer.sign(claims.as_object().expect("object")).expect("sign")
}

/// A token whose header names `alg`, with a real RS256 signature.
fn token_with_alg(alg: &str) -> String {
    let good = token(json!({"aud": AUDIENCE, "exp": NOW + 300}));
    let header =
        Base64UrlUnpadded::encode_string(json!({"alg": alg, "kid": "demo-a"}).to_string().as_bytes());
    let rest = good.split_once('.').map(|(_, rest)| rest).unwrap_or_default();
    format!("{header}.{rest}")
}

fn dynamic(c: &mut Criterion) {
    let jwks = Jwks::parse(JWKS_A.as_bytes()).expect("fixture JWKS");
    let verifier = DynamicVerifier::new([AUDIENCE]);
    let now = Timestamp::from_unix_secs(NOW);
    // A padding claim brings the expired token to just under the 2 KiB the target names.
    let expired = (0..2048)
        .map(|pad| token(json!({"aud": AUDIENCE, "exp": NOW - 3600, "pad": "p".repeat(pad)})))
        .take_while(|token| token.len() <= 2048)
        .last()
        .unwrap_or_default();
    let cases = [
        ("valid RS256-2048", token(json!({"aud": AUDIENCE, "iat": NOW, "exp": NOW + 300}))),
        ("expired 2 KiB", expired),
        ("wrong alg", token_with_alg("HS256")),
        ("malformed 2 KiB", format!("{}.e30", "A".repeat(2040))),
    ];
    let mut group = c.benchmark_group("dynamic");
    for (name, token) in &cases {
        let headers = Headers { id: "msg_1", timestamp: "1790000000", signature: token };
        group.bench_function(*name, |b| {
            b.iter(|| verifier.verify(black_box(&headers), black_box(BODY), now, &jwks));
        });
    }
    group.finish();
}

criterion_group!(benches, dynamic);
criterion_main!(benches);
