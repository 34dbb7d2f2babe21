//! Shared by the tests that run the receiver binary: a scratch directory, a
//! free port, and the command that starts it.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use webhook_signature::{Timestamp, Webhook};

/// The Standard Webhooks spec's example secret: the receiver's static secret.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The receiver binary on 127.0.0.1:`port` with [`SECRET`], nothing else from
/// this environment, and its stderr in `log`; add the test's own variables.
pub fn receiver(port: u16, log: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gemini-receiver"));
    command
        .env_clear()
        .env("GEMINI_WEBHOOK_SECRET", SECRET)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    command
}

/// A fresh directory for one test: `<temp>/gemini-<suite>-<pid>-<name>`.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gemini-{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A port nobody listens on now, on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The body [`deliver`] sends.
pub const BODY: &str = r#"{"type":"batch.succeeded","version":"v1","data":{"id":"batches/1"}}"#;

/// Waits until `done` gives a value, checking every 50 ms, for at most `bound`.
pub fn eventually<T>(what: &str, bound: Duration, mut done: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = done() {
            return value;
        }
        assert!(started.elapsed() < bound, "not within {bound:?}: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One delivery of [`BODY`] signed with [`SECRET`]; the status line's code.
pub fn deliver(port: u16, id: &str) -> u16 {
    let timestamp = Timestamp::now();
    let signature = Webhook::new(SECRET).unwrap().sign(id, timestamp, BODY.as_bytes()).unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /webhooks/gemini HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {}\r\n\
         webhook-id: {id}\r\nwebhook-timestamp: {timestamp}\r\nwebhook-signature: {signature}\r\n\r\n{BODY}",
        BODY.len()
    )
    .unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer[9..12].parse().unwrap()
}
