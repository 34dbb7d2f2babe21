//! `diagnose`: each known mistake, made on purpose, is named first; on the
//! sender side through the header, on the receiver side through `--computed`.
//! Vector A1 (the reference libraries' shared secret, id, timestamp and body).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::process::{Command, Stdio};

use base64ct::{Base64, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use common::{BIN, run};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: &str = "1614265330";
const BODY: &str = r#"{"test": 2432232314}"#;
const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn key() -> Vec<u8> {
    Base64::decode_vec(SECRET.strip_prefix("whsec_").unwrap()).unwrap()
}

fn mac(key: &[u8], content: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(content);
    mac.finalize().into_bytes().to_vec()
}

fn v1(tag: &[u8]) -> String {
    format!("v1,{}", Base64::encode_string(tag))
}

fn content(ts: &str, body: &str) -> Vec<u8> {
    format!("{ID}.{ts}.{body}").into_bytes()
}

/// Runs `diagnose --json` with `args` and `body` on stdin: (exit code, JSON).
fn diagnose(args: &[&str], body: &str) -> (i32, Value) {
    let output = run(&[&["diagnose", "--json"][..], args].concat(), body);
    let text = String::from_utf8(output.stdout).unwrap();
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{text} / {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap(), json)
}

fn delivery(secret: &str, ts: &str, signature: &str, now: &str) -> Vec<String> {
    ["--secret", secret, "--id", ID, "--timestamp", ts, "--signature", signature, "--now", now]
        .map(str::to_owned)
        .to_vec()
}

fn causes(json: &Value) -> Vec<&str> {
    json["causes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect()
}

fn run_json(args: &[String], body: &str) -> (i32, Value) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    diagnose(&args, body)
}

#[test]
fn a_valid_delivery_is_valid() {
    let (code, json) = run_json(&delivery(SECRET, TS, SIGNATURE, TS), BODY);
    assert_eq!(code, 0);
    assert_eq!(
        (json["valid"].as_bool(), json["error"].is_null(), causes(&json).len()),
        (Some(true), true, 0)
    );
}

#[test]
fn sender_mistakes_are_named_first() {
    let key = key();
    let python = r#"{"test": 2432232314}"#; // what json.dumps writes for the compact body below
    let compact = r#"{"test":2432232314}"#;
    let cases: Vec<(&str, Vec<String>, &str, &str)> = vec![
        ("secret-prefix-kept", delivery(&format!("v1,{SECRET}"), TS, SIGNATURE, TS), BODY, "InvalidSecret"),
        ("secret-prefix-kept", delivery(&format!("\"{SECRET}\""), TS, SIGNATURE, TS), BODY, "InvalidSecret"),
        (
            "secret-not-decoded",
            delivery(SECRET, TS, &v1(&mac(SECRET.as_bytes(), &content(TS, BODY))), TS),
            BODY,
            "NoMatchingSignature",
        ),
        (
            "body-only",
            delivery(SECRET, TS, &v1(&mac(&key, BODY.as_bytes())), TS),
            BODY,
            "NoMatchingSignature",
        ),
        (
            "reserialized-json",
            delivery(SECRET, TS, &v1(&mac(&key, &content(TS, python))), TS),
            compact,
            "NoMatchingSignature",
        ),
        (
            "trailing-newline",
            delivery(SECRET, TS, &v1(&mac(&key, &content(TS, &format!("{BODY}\n")))), TS),
            BODY,
            "NoMatchingSignature",
        ),
        (
            "timestamp-milliseconds",
            delivery(SECRET, "1614265330000", &v1(&mac(&key, &content("1614265330000", BODY))), TS),
            BODY,
            "TimestampTooNew",
        ),
        ("clock-skew", delivery(SECRET, TS, SIGNATURE, "1614266330"), BODY, "TimestampTooOld"),
        (
            "malformed-signature-header",
            delivery(SECRET, TS, SIGNATURE.strip_prefix("v1,").unwrap(), TS),
            BODY,
            "NoSupportedSignature",
        ),
        ("malformed-signature-header", delivery(SECRET, TS, "sha256=8348", TS), BODY, "NoSupportedSignature"),
        (
            "wrong-secret",
            delivery(SECRET, TS, &v1(&mac(b"another key", &content(TS, BODY))), TS),
            BODY,
            "NoMatchingSignature",
        ),
    ];
    for (expected, args, body, error) in cases {
        let (code, json) = run_json(&args, body);
        assert_eq!(code, 1, "{expected}: {json}");
        assert_eq!(json["valid"], false);
        assert_eq!(json["error"], error, "{expected}: {json}");
        assert_eq!(causes(&json).first(), Some(&expected), "{json}");
    }
}

#[test]
fn details_say_which_and_how_far() {
    let python = r#"{"test": 2432232314}"#;
    let (_, json) = run_json(
        &delivery(SECRET, TS, &v1(&mac(&key(), &content(TS, python))), TS),
        r#"{"test":2432232314}"#,
    );
    assert_eq!(json["details"]["reserialization"], "Python json.dumps defaults");
    let (_, json) = run_json(&delivery(SECRET, TS, SIGNATURE, "1614266330"), BODY);
    assert_eq!(json["details"]["clock_skew_seconds"], 1000);
    assert_eq!(json["details"]["clock_skew_direction"], "timestamp is in the past");
    let (_, json) = run_json(&delivery(SECRET, TS, SIGNATURE.strip_prefix("v1,").unwrap(), TS), BODY);
    assert!(json["details"]["found"].as_str().unwrap().starts_with("bare base64"), "{json}");
    // Rotation: the second secret matched.
    let mut args = delivery(
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        TS,
        &v1(&mac(SECRET.as_bytes(), &content(TS, BODY))),
        TS,
    );
    args.extend(["--secret".to_owned(), SECRET.to_owned()]);
    let (_, json) = run_json(&args, BODY);
    assert_eq!((causes(&json), &json["details"]["secret"]), (vec!["secret-not-decoded"], &Value::from(2)));
}

#[test]
fn receiver_mistakes_through_computed() {
    let key = key();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("secret-not-decoded", mac(SECRET.as_bytes(), &content(TS, BODY))),
        ("body-only", mac(&key, BODY.as_bytes())),
        ("reserialized-json", mac(&key, &content(TS, r#"{"test":2432232314}"#))),
        ("trailing-newline", mac(&key, &content(TS, &format!("{BODY}\n")))),
        ("wrong-secret", mac(b"k", &content(TS, BODY))),
    ];
    for (expected, computed) in cases {
        for form in [v1(&computed), Base64::encode_string(&computed), hex(&computed)] {
            let mut args = delivery(SECRET, TS, SIGNATURE, TS);
            args.extend(["--computed".to_owned(), form]);
            let (code, json) = run_json(&args, BODY);
            assert_eq!((code, &json["valid"]), (1, &Value::Bool(true)), "{expected}: {json}");
            assert_eq!(causes(&json).first(), Some(&expected), "{json}");
        }
    }
    let mut right = delivery(SECRET, TS, SIGNATURE, TS);
    right.extend(["--computed".to_owned(), SIGNATURE.to_owned()]);
    let (code, json) = run_json(&right, BODY);
    assert_eq!((code, causes(&json).len()), (0, 0), "{json}");
}

/// The seed's FastAPI receiver: `hmac.new(secret.encode(), body, sha256).hexdigest()`
/// compared with `split(",")[-1]` of the header.
#[test]
fn the_seed_fastapi_snippet() {
    let computed = hex(&mac(SECRET.as_bytes(), BODY.as_bytes()));
    let mut args = delivery(SECRET, TS, SIGNATURE, TS);
    args.extend(["--computed".to_owned(), computed]);
    let (code, json) = run_json(&args, BODY);
    assert_eq!(code, 1);
    assert_eq!(json["valid"], true);
    assert_eq!(causes(&json), ["secret-not-decoded", "body-only"]);
}

#[test]
fn usage_and_limits() {
    let (code, _) = diagnose_raw(&["--id", ID, "--timestamp", TS, "--signature", SIGNATURE]);
    assert_eq!(code, 2, "no secret");
    let (code, _) = diagnose_raw(&[
        "--secret",
        SECRET,
        "--id",
        ID,
        "--timestamp",
        TS,
        "--signature",
        SIGNATURE,
        "--computed",
        "nope",
    ]);
    assert_eq!(code, 2);
}

fn diagnose_raw(args: &[&str]) -> (i32, String) {
    let output = Command::new(BIN)
        .arg("diagnose")
        .args(args)
        .env_remove("WEBHOOK_SECRET")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (output.status.code().unwrap(), String::from_utf8_lossy(&output.stderr).into_owned())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn an_unparsable_secret_is_its_own_cause() {
    // A dashboard password where the whsec_ secret belongs: not wrong-secret, invalid-secret.
    let output = common::run(
        &[
            "diagnose",
            "--secret",
            "my-dashboard-secret",
            "--id",
            "msg_1",
            "--timestamp",
            "1614265330",
            "--now",
            "1614265330",
            "--signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "--json",
        ],
        "{}",
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["causes"], serde_json::json!(["invalid-secret"]), "{report}");
    assert_eq!(output.status.code(), Some(1));
}

/// A saved request is read as a receiver reads it, by the core: `svix-*`
/// names are found (with a warning), a repeated header is refused by name.
#[test]
fn saved_requests_are_read_by_the_core() {
    let dir = std::env::temp_dir().join(format!("diagnose-saved-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let save = |name: &str, headers: &str| {
        let path = dir.join(name);
        std::fs::write(&path, format!("POST /hook HTTP/1.1\r\n{headers}\r\n{BODY}")).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let svix = save(
        "svix.http",
        &format!("svix-id: {ID}\r\nsvix-timestamp: {TS}\r\nsvix-signature: {SIGNATURE}\r\n"),
    );
    let (code, json) = diagnose(&["--secret", SECRET, "--now", TS, "--request", &svix], "");
    assert_eq!((code, json["valid"].as_bool()), (0, Some(true)), "{json}");
    assert_eq!(json["warnings"][0], "svix-headers", "{json}");

    let repeated = save(
        "repeated.http",
        &format!(
            "webhook-id: {ID}\r\nwebhook-timestamp: {TS}\r\nwebhook-signature: {SIGNATURE}\r\nwebhook-signature: v1,AAAA\r\n"
        ),
    );
    let (code, stderr) = diagnose_raw(&["--secret", SECRET, "--now", TS, "--request", &repeated]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("webhook-signature"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
