//! Dynamic (RS256 JWT) deliveries: arbitrary tokens, and genuine tokens with
//! arbitrary byte edits, through the parser and the verifier with the
//! committed fixture JWKS. Never a panic, and nothing is accepted but a
//! genuine token byte for byte: the fuzzer cannot forge RSA, so any other
//! acceptance is a bug.
#![no_main]

use std::sync::LazyLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use webhook_signature::{Headers, Timestamp};
use webhook_signature_gemini::token::UnverifiedToken;
use webhook_signature_gemini::{DynamicVerifier, Jwks, TokenSigner};

const KEY_A: &str = include_str!("../../gemini/tests/fixtures/jwt/demo-2048-a.pem");
const JWKS_MIXED: &str = include_str!("../../gemini/tests/fixtures/jwt/jwks-mixed.json");
const AUDIENCE: &str = "aud";
const NOW: u64 = 1_790_000_000;

/// Signed once: RSA signing costs a millisecond, too slow per input.
static GENUINE: LazyLock<Vec<String>> = LazyLock::new(|| {
    let signer = TokenSigner::from_pem(KEY_A.as_bytes(), "demo-a").unwrap();
    [
        serde_json::json!({"aud": AUDIENCE, "exp": NOW + 300, "iat": NOW}),
        serde_json::json!({"aud": [AUDIENCE, "x"], "exp": NOW + 300, "nbf": NOW - 10, "iss": "i"}),
        serde_json::json!({"aud": AUDIENCE, "exp": NOW + 300, "body_sha256": "x"}),
    ]
    .iter()
    .map(|claims| signer.sign(claims.as_object().unwrap()).unwrap())
    .collect()
});
static JWKS: LazyLock<Jwks> = LazyLock::new(|| Jwks::parse(JWKS_MIXED.as_bytes()).unwrap());

#[derive(Arbitrary, Debug)]
enum Token {
    Raw(String),
    Edited { base: u8, edits: Vec<(u16, u8)> },
}

#[derive(Arbitrary, Debug)]
struct Input {
    token: Token,
    id: String,
    timestamp: String,
    now_offset: i16,
    body: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let token = match input.token {
        Token::Raw(token) => token,
        Token::Edited { base, edits } => {
            let mut bytes = GENUINE[usize::from(base) % GENUINE.len()].clone().into_bytes();
            for (at, byte) in edits {
                if let Some(slot) = bytes.get_mut(usize::from(at)) {
                    *slot = byte;
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    let _ = UnverifiedToken::parse(&token);
    let now = Timestamp::from_unix_secs(NOW.saturating_add_signed(i64::from(input.now_offset)));
    let headers = Headers { id: &input.id, timestamp: &input.timestamp, signature: &token };
    let verifier = DynamicVerifier::new([AUDIENCE]).without_timestamp_window();
    if verifier.verify(&headers, &input.body, now, &JWKS).is_ok() {
        assert!(GENUINE.contains(&token), "accepted a token that was never signed: {token}");
    }
});
