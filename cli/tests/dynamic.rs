//! The CLI's dynamic (RS256 JWT) mode: `sign --jwt-key`, `verify --jwks`,
//! `inspect`. Keys: the committed fixtures in `gemini/tests/fixtures/jwt`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::process::Output;

use common::run;

const KEY_A: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../gemini/tests/fixtures/jwt/demo-2048-a.pem");
const KEY_B: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../gemini/tests/fixtures/jwt/demo-2048-b.pem");
const JWKS_A: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../gemini/tests/fixtures/jwt/jwks-a.json");
const AUDIENCE: &str = "https://receiver.example/webhooks/gemini";
// A1, the reference libraries' shared vector.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_dynamic1";
const TIMESTAMP: &str = "1790000000";
const BODY: &str = r#"{"type":"batch.succeeded","version":"v1","data":{"id":"batches/1"}}"#;

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// `sign --jwt-key` and the token from its third line.
fn sign(key: &str, extra: &[&str]) -> String {
    let args = [
        &[
            "sign",
            "--jwt-key",
            key,
            "--kid",
            "demo-a",
            "--audience",
            AUDIENCE,
            "--id",
            ID,
            "--timestamp",
            TIMESTAMP,
        ][..],
        extra,
    ]
    .concat();
    let output = run(&args, BODY);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("webhook-id: {ID}"));
    assert_eq!(lines[1], format!("webhook-timestamp: {TIMESTAMP}"));
    lines[2].strip_prefix("webhook-signature: ").unwrap().to_owned()
}

fn verify(token: &str, extra: &[&str], body: &str) -> Output {
    let args = [
        &[
            "verify",
            "--jwks",
            JWKS_A,
            "--audience",
            AUDIENCE,
            "--id",
            ID,
            "--timestamp",
            TIMESTAMP,
            "--signature",
            token,
        ][..],
        if extra.contains(&"--now") { &[] } else { &["--now", TIMESTAMP] },
        extra,
    ]
    .concat();
    run(&args, body)
}

#[test]
fn sign_then_verify_dynamic() {
    let token = sign(KEY_A, &[]);
    assert_eq!(token.matches('.').count(), 2, "{token}");
    let output = verify(&token, &[], BODY);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "valid (dynamic, key demo-a); body NOT authenticated (bearer token)\n");
    // A bearer token: another body still passes, and the output says the body is not authenticated.
    assert_eq!(
        text(&verify(&token, &[], "{}").stdout),
        "valid (dynamic, key demo-a); body NOT authenticated (bearer token)\n"
    );
    // Unless a bound body is required.
    let required = verify(&token, &["--require-bound-body"], BODY);
    assert_eq!(required.status.code(), Some(1));
    assert_eq!(
        text(&required.stderr).lines().next(),
        Some("invalid: token does not bind the body, and a bound body is required")
    );
}

#[test]
fn body_bound_tokens_say_so() {
    let token = sign(KEY_A, &["--bind-body"]);
    assert_eq!(text(&verify(&token, &[], BODY).stdout), "valid (dynamic, key demo-a); body bound\n");
    assert!(verify(&token, &["--require-bound-body"], BODY).status.success());
    // The token's body_sha256 names another body: tampering, never a bearer token.
    let tampered = verify(&token, &[], "{}");
    assert_eq!(tampered.status.code(), Some(1));
    assert_eq!(
        text(&tampered.stderr).lines().next(),
        Some("invalid: token's body digest claim does not match the body")
    );
}

#[test]
fn rejections_are_one_line_with_exit_one() {
    let forged = sign(KEY_B, &[]);
    let output = verify(&forged, &[], BODY);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stderr).lines().next(), Some("invalid: token signature does not verify"));

    let token = sign(KEY_A, &[]);
    let wrong_audience = run(
        &[
            "verify",
            "--jwks",
            JWKS_A,
            "--audience",
            "other",
            "--id",
            ID,
            "--timestamp",
            TIMESTAMP,
            "--signature",
            &token,
            "--now",
            TIMESTAMP,
        ],
        BODY,
    );
    assert_eq!(text(&wrong_audience.stderr).lines().next(), Some("invalid: token audience not accepted"));

    // --now applies to exp as well (ttl 300 + leeway 60; the tolerance is widened so exp decides).
    let later = verify(&token, &["--now", "1790000361", "--tolerance", "1000"], BODY);
    assert_eq!(text(&later.stderr).lines().next(), Some("invalid: token expired"));
    let within = verify(&token, &["--now", "1790000360", "--tolerance", "1000"], BODY);
    assert!(within.status.success());
    let short = sign(KEY_A, &["--ttl", "10"]);
    assert_eq!(
        text(&verify(&short, &["--now", "1790000071"], BODY).stderr).lines().next(),
        Some("invalid: token expired")
    );

    let issuer = verify(&token, &["--issuer", "https://generativelanguage.googleapis.com"], BODY);
    assert_eq!(text(&issuer.stderr).lines().next(), Some("invalid: token lacks the iss claim"));
    let with_iss = sign(KEY_A, &["--issuer", "https://generativelanguage.googleapis.com"]);
    assert!(
        verify(&with_iss, &["--issuer", "https://generativelanguage.googleapis.com"], BODY).status.success()
    );
}

#[test]
fn jwks_without_audience_is_a_usage_error() {
    let output = run(
        &["verify", "--jwks", JWKS_A, "--id", ID, "--timestamp", TIMESTAMP, "--signature", "a.b.c"],
        BODY,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--audience"), "{}", text(&output.stderr));
}

#[test]
fn secrets_and_jwks_route_by_shape() {
    let token = sign(KEY_A, &[]);
    let both = |signature: &str| {
        run(
            &[
                "verify",
                "--secret",
                SECRET,
                "--jwks",
                JWKS_A,
                "--audience",
                AUDIENCE,
                "--id",
                ID,
                "--timestamp",
                TIMESTAMP,
                "--signature",
                signature,
                "--now",
                TIMESTAMP,
            ],
            BODY,
        )
    };
    assert_eq!(
        text(&both(&token).stdout),
        "valid (dynamic, key demo-a); body NOT authenticated (bearer token)\n"
    );
    let static_sig = run(&["sign", "--secret", SECRET, "--id", ID, "--timestamp", TIMESTAMP], BODY);
    let header = text(&static_sig.stdout)
        .lines()
        .nth(2)
        .unwrap()
        .strip_prefix("webhook-signature: ")
        .unwrap()
        .to_owned();
    assert_eq!(text(&both(&header).stdout), "valid\n");
    // Without --jwks a JWT is rejected precisely.
    let no_jwks = run(
        &[
            "verify",
            "--secret",
            SECRET,
            "--id",
            ID,
            "--timestamp",
            TIMESTAMP,
            "--signature",
            &token,
            "--now",
            TIMESTAMP,
        ],
        BODY,
    );
    assert_eq!(no_jwks.status.code(), Some(1));
    assert!(text(&no_jwks.stderr).contains("no audience is configured"));
}

#[test]
fn inspect_marks_everything_unverified() {
    let token = sign(KEY_A, &["--issuer", "iss-1"]);
    let output = run(&["inspect", "--signature", &token], "");
    assert!(output.status.success());
    let out = text(&output.stdout);
    assert!(out.starts_with("UNVERIFIED"), "{out}");
    for needle in
        ["\"kid\": \"demo-a\"", "\"alg\": \"RS256\"", AUDIENCE, "\"iss\": \"iss-1\"", "\"exp\": 1790000300"]
    {
        assert!(out.contains(needle), "{needle}: {out}");
    }
    let bad = run(&["inspect", "--signature", "v1,abc"], "");
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn sign_jwt_needs_kid_and_audience() {
    let output = run(&["sign", "--jwt-key", KEY_A, "--id", ID], BODY);
    assert_eq!(output.status.code(), Some(2));
}
