//! Shared by the tests that run the receiver binary: a scratch directory, a
//! free port, and the command that starts it.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
