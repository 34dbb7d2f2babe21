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
        "GEMINI_RECEIVER_MAX_BODY_BYTES",
        "GEMINI_RECEIVER_MAX_ATTEMPTS",
        "GEMINI_RECEIVER_QUEUE_BOUND",
        "GEMINI_RECEIVER_DEAD_LETTER_RETENTION_DAYS",
    ] {
        let (status, stderr) = run_with(name, "0");
        assert!(!status.success(), "{name}=0: {stderr}");
        assert!(stderr.contains(&format!("{name}: must be at least 1")), "{name}=0: {stderr}");
    }
}

/// `NAME_FILE` names a file holding the secret (a mounted Docker or Kubernetes
/// secret); an unreadable or empty one, or both forms at once, is refused by name.
#[test]
fn a_secret_file_that_cannot_be_used_or_doubles_the_variable_is_refused() {
    let dir = scratch("config", "secret-file");
    let empty = dir.join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let missing = dir.join("missing");
    let cases = [
        (
            "GEMINI_WEBHOOK_PREVIOUS_SECRET_FILE",
            missing.to_str().unwrap(),
            "GEMINI_WEBHOOK_PREVIOUS_SECRET_FILE: ",
        ),
        ("GEMINI_WEBHOOK_PREVIOUS_SECRET_FILE", empty.to_str().unwrap(), "is empty"),
        // The common command sets GEMINI_WEBHOOK_SECRET too.
        (
            "GEMINI_WEBHOOK_SECRET_FILE",
            empty.to_str().unwrap(),
            "set GEMINI_WEBHOOK_SECRET or GEMINI_WEBHOOK_SECRET_FILE, not both",
        ),
        ("DATABASE_URL_FILE", missing.to_str().unwrap(), "DATABASE_URL_FILE: "),
    ];
    for (name, value, message) in cases {
        let (status, stderr) = run_with(name, value);
        assert!(!status.success(), "{name}={value}: {stderr}");
        assert!(stderr.contains(message), "{name}={value}: {stderr}");
    }
}

/// A DATABASE_URL that is not PostgreSQL is refused without echoing it: it
/// may hold a password.
#[test]
fn a_wrong_database_url_is_refused_without_its_password() {
    let (status, stderr) = run_with("DATABASE_URL", "mysql://user:hunter2@db/inbox");
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("DATABASE_URL: not a postgres://"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

/// Settings that cannot work together are refused at start, by name: a
/// PostgreSQL lease no longer than the database timeout (a renewal that
/// waits it out would let the lease expire), more handlers at once than the
/// pool has connections.
#[test]
fn settings_that_cannot_work_together_are_refused() {
    let cases = [
        (
            [("GEMINI_RECEIVER_LEASE_SECS", "10"), ("GEMINI_RECEIVER_DB_TIMEOUT_SECS", "10")],
            "GEMINI_RECEIVER_LEASE_SECS (10) must be longer than GEMINI_RECEIVER_DB_TIMEOUT_SECS (10)",
        ),
        (
            [("GEMINI_RECEIVER_CONCURRENCY", "64"), ("GEMINI_RECEIVER_LEASE_SECS", "60")],
            "GEMINI_RECEIVER_CONCURRENCY (64) is more than the PostgreSQL pool's 16 connections",
        ),
    ];
    for (settings, message) in cases {
        let dir = scratch("config", "together");
        let log = dir.join("stderr");
        let mut command = receiver(free_port(), &log);
        // Refused before any connection is tried: nothing listens there.
        command.env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none");
        for (name, value) in settings {
            command.env(name, value);
        }
        let status = command.status().unwrap();
        let stderr = std::fs::read_to_string(&log).unwrap();
        assert!(!status.success(), "{settings:?}: {stderr}");
        assert!(stderr.contains(message), "{settings:?}: {stderr}");
    }
}

/// Forwarding misconfigured stops the receiver, naming what to fix: a URL
/// without its secret, a secret without its URL (deliveries would only be
/// logged), a URL that is not http(s), a secret that is not one, and a
/// forward timeout the worker would cut short. A credential in the URL is
/// never echoed.
#[test]
fn forwarding_without_what_it_needs_is_refused() {
    let url = ("GEMINI_RECEIVER_FORWARD_URL", "http://127.0.0.1:9/hook");
    let secret = ("GEMINI_RECEIVER_FORWARD_SECRET", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[url], "GEMINI_RECEIVER_FORWARD_SECRET (or GEMINI_RECEIVER_FORWARD_SECRET_FILE) is required"),
        (&[secret], "GEMINI_RECEIVER_FORWARD_SECRET is set but GEMINI_RECEIVER_FORWARD_URL is not"),
        (
            &[("GEMINI_RECEIVER_FORWARD_URL", "ftp://user:hunter2@host/x"), secret],
            "GEMINI_RECEIVER_FORWARD_URL: not an http:// or https:// URL",
        ),
        (&[("GEMINI_RECEIVER_FORWARD_URL", "127.0.0.1:8000"), secret], "GEMINI_RECEIVER_FORWARD_URL: "),
        (&[url, ("GEMINI_RECEIVER_FORWARD_SECRET", "whsec_!!")], "GEMINI_RECEIVER_FORWARD_SECRET: "),
        (
            &[url, secret, ("GEMINI_RECEIVER_FORWARD_TIMEOUT_SECS", "900")],
            "GEMINI_RECEIVER_FORWARD_TIMEOUT_SECS (900) must be shorter than GEMINI_RECEIVER_HANDLER_TIMEOUT_SECS (900)",
        ),
    ];
    for (i, (variables, message)) in cases.iter().enumerate() {
        let dir = scratch("config", &format!("forward-{i}"));
        let log = dir.join("stderr");
        let mut command = receiver(free_port(), &log);
        command.env("GEMINI_RECEIVER_DB", dir.join("inbox.sqlite3"));
        for (name, value) in *variables {
            command.env(name, value);
        }
        let status = command.status().unwrap();
        let stderr = std::fs::read_to_string(&log).unwrap();
        assert!(!status.success(), "#{i}: {stderr}");
        assert!(stderr.contains(message), "#{i}: {stderr}");
        assert!(!stderr.contains("hunter2"), "#{i}: {stderr}");
    }
}

/// An SQLite inbox in a folder that does not exist: the folder is named, in
/// plain text (not a debug form), and nothing is created.
#[test]
fn a_missing_folder_is_named() {
    let dir = scratch("config", "missing-folder");
    let log = dir.join("stderr");
    let missing = dir.join("no-such-folder");
    let status = receiver(free_port(), &log)
        .env("GEMINI_RECEIVER_DB", missing.join("inbox.sqlite3"))
        .status()
        .unwrap();
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(!status.success(), "{stderr}");
    let line = format!("the folder {} does not exist", missing.display());
    assert!(stderr.lines().any(|l| l.starts_with("gemini-receiver: ") && l.contains(&line)), "{stderr}");
    assert!(!missing.exists());
}

/// A job-capability secret too short to be one is refused by name.
#[test]
fn a_short_capability_secret_is_refused() {
    let (status, stderr) = run_with("GEMINI_RECEIVER_CAPABILITY_SECRET", "short");
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("GEMINI_RECEIVER_CAPABILITY_SECRET: "), "{stderr}");
}
