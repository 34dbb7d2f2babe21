//! End-to-end tests of the `webhook-signature` binary: sign, verify, keygen,
//! send to listen on 127.0.0.1, and demo.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use common::{BIN, run, stderr, stdout};

// A1, the reference libraries' shared vector.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TIMESTAMP: &str = "1614265330";
const PAYLOAD: &str = r#"{"test": 2432232314}"#;
const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

#[test]
fn sign_prints_the_three_headers() {
    let output = run(&["sign", "--secret", SECRET, "--id", ID, "--timestamp", TIMESTAMP], PAYLOAD);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected =
        format!("webhook-id: {ID}\nwebhook-timestamp: {TIMESTAMP}\nwebhook-signature: {SIGNATURE}\n");
    assert_eq!(stdout(&output), expected);
}

#[test]
fn sign_with_several_secrets_and_as_curl() {
    let output = run(
        &["sign", "--secret", SECRET, "--secret", "whsec_a2V5", "--id", ID, "--timestamp", TIMESTAMP],
        PAYLOAD,
    );
    let signature_line = stdout(&output).lines().nth(2).unwrap().to_owned();
    assert!(signature_line.starts_with(&format!("webhook-signature: {SIGNATURE} v1,")), "{signature_line}");
    let curl = run(
        &[
            "sign",
            "--secret",
            SECRET,
            "--id",
            ID,
            "--timestamp",
            TIMESTAMP,
            "--curl",
            "http://example.test/hook",
        ],
        PAYLOAD,
    );
    let command = stdout(&curl);
    assert!(command.starts_with("curl -sS -X POST 'http://example.test/hook'"), "{command}");
    assert!(command.contains(&format!("-H 'webhook-signature: {SIGNATURE}'")), "{command}");
}

#[test]
fn verify_exits_zero_when_valid_and_one_with_the_reason() {
    let base = ["verify", "--secret", SECRET, "--id", ID, "--timestamp", TIMESTAMP, "--now", TIMESTAMP];
    let valid = run(&[&base[..], &["--signature", SIGNATURE]].concat(), PAYLOAD);
    assert!(valid.status.success(), "{}", stderr(&valid));
    assert_eq!(stdout(&valid), "valid\n");

    let tampered = run(&[&base[..], &["--signature", SIGNATURE]].concat(), "{}");
    assert_eq!(tampered.status.code(), Some(1));
    assert_eq!(stderr(&tampered).lines().next(), Some("invalid: no matching signature"));
    assert!(stderr(&tampered).lines().nth(1).is_some_and(|hint| hint.contains("webhook-signature diagnose")));

    let stale = run(
        &[&base[..5], &["--timestamp", TIMESTAMP, "--now", "1614266000", "--signature", SIGNATURE]].concat(),
        PAYLOAD,
    );
    assert_eq!(stderr(&stale).lines().next(), Some("invalid: webhook timestamp too old"));
    // The numbers: 1614266000 - 1614265330 = 670 s behind, against the default 300 s.
    assert!(
        stderr(&stale).contains("hint: the timestamp is 670 s behind now (tolerance 300 s)"),
        "{}",
        stderr(&stale)
    );
    let tolerant = run(
        &[
            &base[..5],
            &[
                "--timestamp",
                TIMESTAMP,
                "--now",
                "1614266000",
                "--tolerance",
                "1000",
                "--signature",
                SIGNATURE,
            ],
        ]
        .concat(),
        PAYLOAD,
    );
    assert!(tolerant.status.success());

    let rotated = run(
        &[
            "verify",
            "--secret",
            "whsec_a2V5",
            "--secret",
            SECRET,
            "--id",
            ID,
            "--timestamp",
            TIMESTAMP,
            "--now",
            TIMESTAMP,
            "--signature",
            SIGNATURE,
        ],
        PAYLOAD,
    );
    assert_eq!(stdout(&rotated), "valid (key #2)\n");
}

#[test]
fn secrets_come_from_the_environment_and_errors_are_one_line() {
    let output = Command::new(BIN)
        .args([
            "verify",
            "--id",
            ID,
            "--timestamp",
            TIMESTAMP,
            "--now",
            TIMESTAMP,
            "--signature",
            SIGNATURE,
            "-",
        ])
        .env("WEBHOOK_SECRET", format!("whsec_a2V5 {SECRET}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(PAYLOAD.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(stdout(&output), "valid (key #2)\n");

    let no_secret = run(&["sign", "--id", ID], PAYLOAD);
    assert_eq!(no_secret.status.code(), Some(1));
    assert_eq!(stderr(&no_secret), "error: no secret: pass --secret or set WEBHOOK_SECRET\n");
    let bad_secret = run(&["sign", "--secret", "whsec_!!", "--id", ID], PAYLOAD);
    assert_eq!(stderr(&bad_secret), "error: secret #1: invalid webhook secret\n");
    let usage = run(&["verify", "--secret", SECRET], "");
    assert_eq!(usage.status.code(), Some(2));
    assert_eq!(stderr(&usage).lines().count(), 1, "{}", stderr(&usage));
    assert!(stderr(&usage).starts_with("error: the following required arguments were not provided"));
    let help = run(&["--help"], "");
    assert!(help.status.success() && stdout(&help).contains("demo"));
    let missing_file = run(&["sign", "--secret", SECRET, "--id", ID, "/nonexistent/body.json"], "");
    assert_eq!(stderr(&missing_file).lines().count(), 1);
    assert!(stderr(&missing_file).starts_with("error: /nonexistent/body.json: "));
}

#[test]
fn keygen_prints_fresh_keys_that_work() {
    let output = run(&["keygen"], "");
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("whsec_") && lines[0].len() == 6 + 32, "{text}");
    assert_ne!(lines[0], stdout(&run(&["keygen"], "")).lines().next().unwrap());
    if lines.len() == 3 {
        assert!(lines[1].starts_with("whsk_") && lines[2].starts_with("whpk_"));
        let signed = run(&["sign", "--secret", lines[1], "--id", "msg_1", "--timestamp", "100"], "body");
        let signature = signature_of(&signed);
        let verified = run(
            &[
                "verify",
                "--secret",
                lines[2],
                "--id",
                "msg_1",
                "--timestamp",
                "100",
                "--now",
                "100",
                "--signature",
                &signature,
            ],
            "body",
        );
        assert_eq!(stdout(&verified), "valid\n", "{}", stderr(&verified));
    }
}

/// A `listen` process on a free port, killed when dropped.
struct Listener {
    child: Child,
    /// `None` once the test has closed it, as a reader that left would.
    lines: Option<std::io::Lines<BufReader<std::process::ChildStdout>>>,
    url: String,
}

impl Listener {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args([&["listen", "--port", "0"], args].concat())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let url = first.strip_prefix("listening on ").unwrap().to_owned();
        Self { child, lines: Some(lines), url }
    }

    fn next_line(&mut self) -> String {
        self.lines.as_mut().unwrap().next().unwrap().unwrap()
    }

    /// POSTs `body` with `headers` on a fresh connection and returns the
    /// whole response (the connection is closed after it).
    fn post_raw(&self, headers: &[(&str, &str)], body: &str) -> String {
        let address = self.url.strip_prefix("http://").unwrap();
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        let mut request = format!(
            "POST /hook HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
        let mut response = String::new();
        let _ = std::io::Read::read_to_string(&mut stream, &mut response);
        response
    }
}

/// Unix seconds now, as `webhook-timestamp` carries them.
fn unix_now() -> String {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string()
}

/// The `webhook-signature` value from `sign`'s output.
fn signature_of(signed: &std::process::Output) -> String {
    stdout(signed).lines().nth(2).unwrap().strip_prefix("webhook-signature: ").unwrap().to_owned()
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn send_to_listen_end_to_end() {
    let mut listener = Listener::start(&["--secret", SECRET, "--max-body", "1000"]);
    let sent = run(
        &["send", &listener.url, "--secret", SECRET, "--id", "msg_e2e", "--event", "batch.succeeded"],
        "",
    );
    assert_eq!(stdout(&sent), "204\n", "{}", stderr(&sent));
    assert_eq!(listener.next_line(), "msg_e2e batch.succeeded 204: valid");

    let replay = run(&["send", &listener.url, "--secret", SECRET, "--id", "msg_e2e"], "");
    assert_eq!(stdout(&replay), "409\n");
    assert_eq!(replay.status.code(), Some(1));
    assert_eq!(listener.next_line(), "msg_e2e video.generated 409: replayed webhook-id");

    let wrong_key = run(&["send", &listener.url, "--secret", "whsec_a2V5", "--id", "msg_other"], "");
    assert_eq!(stdout(&wrong_key), "401\n");
    assert_eq!(listener.next_line(), "msg_other video.generated 401: no matching signature");

    let big = "x".repeat(2000);
    let too_big = run(&["send", &listener.url, "--secret", SECRET, "--id", "msg_big", "-"], &big);
    assert_eq!(stdout(&too_big), "413\n");
    assert_eq!(listener.next_line(), "msg_big - 413: body over 1000 bytes");

    let raw = run(&["send", &listener.url, "--secret", SECRET, "--id", "msg_raw", "-"], "not json at all");
    assert_eq!(stdout(&raw), "204\n");
    assert_eq!(listener.next_line(), "msg_raw - 204: valid");

    // An id made up by `send` is printed, so the delivery can be found again.
    let made_up = run(&["send", &listener.url, "--secret", SECRET], "");
    assert_eq!(stdout(&made_up), "204\n");
    let id = stderr(&made_up).trim().strip_prefix("webhook-id: ").unwrap().to_owned();
    assert!(id.starts_with("msg_"), "{id}");
    assert_eq!(listener.next_line(), format!("{id} video.generated 204: valid"));
}

/// A client that sends its headers and then stalls its body holds up no
/// other delivery: one sent meanwhile is answered, and the stalled request
/// gets 408 at `--body-timeout`: a listener that served one request at a
/// time with no bound on reading a body would keep the second sender waiting.
#[test]
fn a_stalled_body_holds_up_no_other_delivery_and_gets_408() {
    let mut listener = Listener::start(&["--secret", SECRET, "--body-timeout", "1"]);
    let address = listener.url.strip_prefix("http://").unwrap().to_owned();
    let mut stalled = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stalled,
        "POST /hook HTTP/1.1\r\nhost: {address}\r\nwebhook-id: msg_stalled\r\ncontent-length: 100\r\n\r\n{{"
    )
    .unwrap();

    let sent = run(&["send", &listener.url, "--secret", SECRET, "--id", "msg_meanwhile"], "");
    assert_eq!(stdout(&sent), "204\n", "{}", stderr(&sent));

    stalled.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let mut response = String::new();
    let _ = std::io::Read::read_to_string(&mut stalled, &mut response);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    // The stalled one ends after the other was answered, however slow this machine.
    let mut lines = [listener.next_line(), listener.next_line()];
    lines.sort();
    assert_eq!(
        lines,
        ["msg_meanwhile video.generated 204: valid", "msg_stalled - 408: body not received in time"]
    );
}

/// SIGTERM (or Ctrl-C) stops `listen` as the receiver stops: the delivery
/// in flight is still answered and reported, then it exits 0.
#[test]
fn sigterm_answers_the_delivery_in_flight_then_exits_0() {
    let mut listener = Listener::start(&["--secret", SECRET]);
    let now = unix_now();
    let body = "{\"a\":1}";
    let signed = run(&["sign", "--secret", SECRET, "--id", "msg_in_flight", "--timestamp", &now], body);
    let signature = signature_of(&signed);
    let address = listener.url.strip_prefix("http://").unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "POST /hook HTTP/1.1\r\nhost: {address}\r\ncontent-length: {}\r\nwebhook-id: msg_in_flight\r\n\
         webhook-timestamp: {now}\r\nwebhook-signature: {signature}\r\n\r\n{{",
        body.len()
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let pid = listener.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    std::thread::sleep(std::time::Duration::from_millis(500));
    stream.write_all(&body.as_bytes()[1..]).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let mut response = String::new();
    let _ = std::io::Read::read_to_string(&mut stream, &mut response);
    assert!(response.starts_with("HTTP/1.1 204"), "{response}");
    assert_eq!(listener.next_line(), "msg_in_flight - 204: valid");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = listener.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "still running after SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
}

/// `--save-max N` bounds the files a flood of rejected deliveries can write.
#[test]
fn listen_saves_at_most_save_max_rejections() {
    let dir = std::env::temp_dir().join(format!("listen-save-max-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut listener =
        Listener::start(&["--secret", SECRET, "--save", dir.to_str().unwrap(), "--save-max", "2"]);
    for i in 0..4 {
        let id = format!("msg_forged_{i}");
        let sent = run(&["send", &listener.url, "--secret", "whsec_a2V5", "--id", &id], "");
        assert_eq!(stdout(&sent), "401\n");
        assert_eq!(listener.next_line(), format!("{id} video.generated 401: no matching signature"));
    }
    let mut saved: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    saved.sort();
    assert_eq!(saved.len(), 2, "{saved:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A JWKS on 127.0.0.1 whose document the test swaps, as a sender rotates its keys.
fn rotating_jwks(first: &'static str) -> (String, std::sync::Arc<std::sync::Mutex<&'static str>>) {
    let document = std::sync::Arc::new(std::sync::Mutex::new(first));
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks.json", server.local_addr().unwrap());
    let serving = document.clone();
    std::thread::spawn(move || {
        for stream in server.incoming() {
            let mut stream = stream.unwrap();
            let mut request = [0; 4096];
            let _ = std::io::Read::read(&mut stream, &mut request);
            let body = *serving.lock().unwrap();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, document)
}

/// `listen --jwks URL` fetches the keys again for a `kid` it has not seen:
/// a key the sender rotates in while it runs verifies without a restart.
#[test]
fn listen_picks_up_a_key_rotated_in_after_it_started() {
    const AUDIENCE: &str = "https://receiver.example/webhooks/gemini";
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../gemini/tests/fixtures/jwt/");
    let (url, document) = rotating_jwks(include_str!("../../gemini/tests/fixtures/jwt/jwks-a.json"));
    let mut listener = Listener::start(&["--jwks", &url, "--audience", AUDIENCE]);
    *document.lock().unwrap() = include_str!("../../gemini/tests/fixtures/jwt/jwks-ab.json");
    let now = unix_now();
    let body = r#"{"type":"batch.succeeded"}"#;
    let signed = run(
        &[
            "sign",
            "--jwt-key",
            &format!("{fixtures}demo-2048-b.pem"),
            "--kid",
            "demo-b",
            "--audience",
            AUDIENCE,
            "--id",
            "msg_rotated",
            "--timestamp",
            &now,
        ],
        body,
    );
    let token = signature_of(&signed);
    let response = listener.post_raw(
        &[("webhook-id", "msg_rotated"), ("webhook-timestamp", &now), ("webhook-signature", &token)],
        body,
    );
    assert!(response.starts_with("HTTP/1.1 204"), "{response}");
    assert_eq!(
        listener.next_line(),
        "msg_rotated batch.succeeded 204: valid (dynamic, key demo-b); body NOT authenticated (bearer token)"
    );
}

/// `--body-timeout 0` would cut off every body: refused with exit code 2.
#[test]
fn listen_refuses_a_zero_body_timeout() {
    let output = run(&["listen", "--secret", SECRET, "--body-timeout", "0", "--port", "0"], "");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
fn demo_exits_zero_when_all_six_deliveries_come_out_right() {
    let output = run(&["demo"], "");
    assert!(output.status.success(), "{}\n{}", stdout(&output), stderr(&output));
    let text = stdout(&output);
    for case in ["valid", "tampered", "stale", "replay", "dynamic", "forged"] {
        assert!(text.lines().any(|l| l.starts_with(case) && l.ends_with("[as expected]")), "{case}: {text}");
    }
}

/// `listen --save DIR` keeps each rejected delivery as a raw request, and
/// `diagnose --request FILE` explains it, with `now` = when it was received.
#[test]
fn saved_rejections_are_diagnosed() {
    let dir = std::env::temp_dir().join(format!("listen-save-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut listener = Listener::start(&["--secret", SECRET, "--save", dir.to_str().unwrap()]);
    // Signed over the body with a trailing newline; sent without it, under svix-* names.
    let now = unix_now();
    let signed = run(&["sign", "--secret", SECRET, "--id", "msg_saved", "--timestamp", &now], "{\"a\":1}\n");
    let signature = signature_of(&signed);
    let response = listener.post_raw(
        &[("svix-id", "msg_saved"), ("svix-timestamp", &now), ("svix-signature", &signature)],
        "{\"a\":1}",
    );
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert_eq!(listener.next_line(), "msg_saved - 401: no matching signature");
    let saved: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().path()).collect();
    assert_eq!(saved.len(), 1);
    let file = saved[0].to_str().unwrap();
    let diagnosis = run(&["diagnose", "--secret", SECRET, "--request", file, "--json"], "");
    assert_eq!(diagnosis.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&diagnosis)).unwrap();
    assert_eq!(json["causes"][0], "trailing-newline", "{json}");
    assert_eq!(json["warnings"][0], "svix-headers", "{json}");
    // A week later, `now` is still the time it was received: no clock-skew.
    let text = run(&["diagnose", "--secret", SECRET, "--request", file], "");
    let out = stdout(&text);
    assert!(out.starts_with("invalid: NoMatchingSignature\ntrailing-newline: "), "{out}");
    assert!(out.contains("  fix: "), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reader that has gone (`keygen | head -1`, `sign … | true`) ends the
/// command quietly with 141, the status a shell reports for a writer ended by
/// SIGPIPE: no panic, no error line. The pipe's read end is closed before the
/// command starts, so its first write fails whatever the timing; stdin is
/// empty, so nothing is written to a command that may have ended.
#[test]
fn a_closed_stdout_pipe_ends_the_command_quietly() {
    for args in [&["keygen"][..], &["sign", "--secret", SECRET, "--id", ID, "--timestamp", TIMESTAMP]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(141), "{args:?}: {}", stderr(&output));
        assert_eq!(stderr(&output), "", "{args:?}");
    }
}

/// The demo's keys (`cli/demo/`, embedded in the binary) are Gemini's test
/// fixtures, as `cli/demo/README.md` says: the same bytes.
#[test]
fn the_demo_keys_are_geminis_fixtures() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    for name in ["demo-2048-a.pem", "demo-2048-b.pem", "jwks-a.json"] {
        let demo = std::fs::read(format!("{root}/cli/demo/{name}")).unwrap();
        let fixture = std::fs::read(format!("{root}/gemini/tests/fixtures/jwt/{name}")).unwrap();
        assert!(demo == fixture, "cli/demo/{name} differs from gemini/tests/fixtures/jwt/{name}");
    }
}

/// `listen | head -1`: once the reader has gone, the delivery whose report
/// could not be printed is still answered, then `listen` stops as on Ctrl-C
/// (the requests in flight answered) and exits 141, without a panic.
#[test]
fn listen_stops_cleanly_when_its_reader_goes() {
    let mut listener = Listener::start(&["--secret", SECRET]);
    // `head -1` read the first line and left.
    listener.lines = None;
    let timestamp = unix_now();
    let signed = run(&["sign", "--secret", SECRET, "--id", "msg_gone", "--timestamp", &timestamp], "{}");
    let signature = signature_of(&signed);
    let headers = [
        ("webhook-id", "msg_gone"),
        ("webhook-timestamp", timestamp.as_str()),
        ("webhook-signature", &signature),
    ];
    let response = listener.post_raw(&headers, "{}");
    assert!(response.starts_with("HTTP/1.1 204"), "{response}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = listener.child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "listen did not stop within 30 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(141));
}
