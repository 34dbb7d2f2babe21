//! Bad settings stop the receiver before it listens, with the variable's name.
#![allow(clippy::unwrap_used)]

mod common;

use common::{free_port, receiver, scratch};

/// Runs the receiver with `name=value` and returns its exit status and stderr.
fn run_with(name: &str, value: &str) -> (std::process::ExitStatus, String) {
    let dir = scratch("config", &name.to_lowercase());
    let log = dir.join("stderr");
    let status = receiver(free_port(), &log)
        .env("GEMINI_RECEIVER_DB", dir.join("inbox.sqlite3"))
        .env(name, value)
        .status()
        .unwrap();
    (status, std::fs::read_to_string(&log).unwrap())
}

#[test]
fn zero_or_garbled_concurrency_is_refused() {
    for (value, message) in [
        ("0", "GEMINI_RECEIVER_CONCURRENCY: must be at least 1"),
        ("many", "GEMINI_RECEIVER_CONCURRENCY: not a number: many"),
    ] {
        let (status, stderr) = run_with("GEMINI_RECEIVER_CONCURRENCY", value);
        assert!(!status.success(), "{value}: {stderr}");
        assert!(stderr.contains(message), "{value}: {stderr}");
    }
}

#[test]
fn a_zero_lease_connection_limit_or_timeout_is_refused_by_name() {
    for name in [
        "GEMINI_RECEIVER_LEASE_SECS",
        "GEMINI_RECEIVER_MAX_CONNECTIONS",
        "GEMINI_RECEIVER_MAX_REQUESTS",
        "GEMINI_RECEIVER_IDLE_TIMEOUT_SECS",
        "GEMINI_RECEIVER_HANDLER_TIMEOUT_SECS",
        "GEMINI_RECEIVER_DB_TIMEOUT_SECS",
    ] {
        let (status, stderr) = run_with(name, "0");
        assert!(!status.success(), "{name}=0: {stderr}");
        assert!(stderr.contains(&format!("{name}: must be at least 1")), "{name}=0: {stderr}");
    }
}
