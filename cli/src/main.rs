//! `webhook-signature`: sign, verify, send and receive Standard Webhooks
//! deliveries from the shell. `webhook-signature demo` shows all of it at once.
//!
//! Each subcommand is a module of [`commands`]; beside them are the parts
//! several commands share: reading the body ([`body_file`]), the secrets
//! ([`secrets`]), Gemini's dynamic-mode options ([`dynamic_mode`]), sample
//! Gemini envelopes ([`gemini_envelope`]), fresh secrets and ids
//! ([`random`]), saved raw requests ([`saved_request`]), and what `diagnose`
//! checks ([`mistakes`], with the JSON re-serializations of
//! [`reserialized_json`]).

// First: `outln!` is used by every module below.
#[macro_use]
mod stdout;

mod body_file;
mod commands;
mod dynamic_mode;
mod gemini_envelope;
mod mistakes;
mod random;
mod reserialized_json;
mod saved_request;
mod secrets;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::{demo, diagnose, inbox, inspect, keygen, listen, send, sign, verify};

/// Sign, verify, send and receive Standard Webhooks deliveries.
#[derive(Parser)]
#[command(name = "webhook-signature", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the three headers of a signed delivery (or a curl command).
    Sign(sign::Args),
    /// Verify a delivery; exits 0 printing `valid`, or 1 with the reason.
    Verify(verify::Args),
    /// Say why a delivery fails, naming the integration mistake; exits 0 valid, 1 not.
    Diagnose(diagnose::Args),
    /// Print a dynamic delivery's JWT header and claims, UNVERIFIED.
    Inspect(inspect::Args),
    /// POST a signed delivery (a sample Gemini envelope without FILE).
    Send(send::Args),
    /// Run a local receiver that verifies and reports each delivery.
    Listen(listen::Args),
    /// Print a new random secret (and an Ed25519 key pair).
    Keygen,
    /// Start a receiver, send it valid, tampered, stale and replayed deliveries.
    Demo,
    /// See, retry and purge what the receiver's inbox holds (SQLite or PostgreSQL).
    Inbox(inbox::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => error.exit(), // --help, --version
        Err(error) => {
            // One line, like every other error of this tool; --help has the rest.
            let text = error.to_string();
            let message: Vec<&str> =
                text.lines().take_while(|line| !line.is_empty()).map(str::trim).collect();
            eprintln!("{} (see --help)", message.join(" "));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Sign(args) => sign::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Diagnose(args) => diagnose::run(&args),
        Command::Send(args) => send::run(&args),
        Command::Listen(args) => listen::run(&args),
        Command::Keygen => keygen::run(),
        Command::Demo => demo::run(),
        Command::Inbox(args) => inbox::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) if error.downcast_ref::<std::io::Error>().is_some_and(is_closed_pipe) => {
            ExitCode::from(stdout::CLOSED_PIPE)
        }
        Err(error) => {
            eprintln!("error: {}", with_causes(&*error));
            ExitCode::FAILURE
        }
    }
}

/// A write whose reader has gone (`inbox list | head -1`): quiet, as
/// `outln!` is.
fn is_closed_pipe(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::BrokenPipe
}

/// The error and its sources on one line, skipping a source whose text the
/// line already holds (many errors print their cause in their own message).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let text = error.to_string();
        if !line.contains(&text) {
            line = format!("{line}: {text}");
        }
        cause = error.source();
    }
    line
}

/// Any failure of a command, reported as one line.
type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;
