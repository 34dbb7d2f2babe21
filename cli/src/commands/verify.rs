//! `verify`: exits 0 printing `valid`, or 1 with the precise reason. A
//! `webhook-signature` that is a JWT is checked against `--jwks`; anything
//! else against the secrets.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use webhook_signature::{Headers, Timestamp};
use webhook_signature_gemini::{BodyBinding, Mode};

use crate::{body_file, dynamic_mode, secrets};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Secret (`whsec_…`, `whpk_…` or `whsk_…`); repeat during rotation. Default: $WEBHOOK_SECRET.
    #[arg(long = "secret", env = "WEBHOOK_SECRET", value_delimiter = ' ', hide_env_values = true)]
    secrets: Vec<String>,
    #[command(flatten)]
    dynamic: dynamic_mode::Args,
    /// The `webhook-id` header.
    #[arg(long)]
    id: String,
    /// The `webhook-timestamp` header, exactly as received.
    #[arg(long)]
    timestamp: String,
    /// The `webhook-signature` header: `v1,…` entries, or a JWT.
    #[arg(long)]
    signature: String,
    /// The current time in Unix seconds (default: the system clock); also for the token's claims.
    #[arg(long)]
    now: Option<u64>,
    /// Accepted clock difference in seconds.
    #[arg(long, default_value_t = 300)]
    tolerance: u64,
    /// The raw body: a file, or `-` for standard input.
    #[arg(default_value = "-")]
    file: PathBuf,
}

pub(crate) fn run(args: &Args) -> crate::Result<ExitCode> {
    let tolerance = Duration::from_secs(args.tolerance);
    let keys = secrets::load_for(&args.secrets, args.dynamic.enabled())?;
    let key_count = keys.len();
    let keys = keys.into_iter().map(|k| k.with_tolerance(tolerance)).collect();
    let loaded = args.dynamic.load(keys, tolerance)?;
    let body = body_file::read(&args.file)?;
    let headers = Headers { id: &args.id, timestamp: &args.timestamp, signature: &args.signature };
    let now = args.now.map_or_else(Timestamp::now, Timestamp::from_unix_secs);
    match loaded.receiver.verify(&headers, &body, now, loaded.jwks.as_ref()) {
        Ok(delivery) => outln!("{}", describe(&delivery.verified.mode, key_count)),
        Err(error) => {
            eprintln!("invalid: {error}");
            eprintln!("hint: {}", hint(&error, &args.timestamp, now, args.tolerance));
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What to try next: the numbers of a timestamp failure, and the command that
/// names the integration mistake.
fn hint(error: &webhook_signature_gemini::Error, timestamp: &str, now: Timestamp, tolerance: u64) -> String {
    use webhook_signature::Error as Core;
    use webhook_signature_gemini::Error as Gemini;
    let skew = timestamp.parse::<u64>().ok().map(|sent| {
        let (gap, way) = if sent <= now.as_unix_secs() {
            (now.as_unix_secs() - sent, "behind")
        } else {
            (sent - now.as_unix_secs(), "ahead of")
        };
        format!("the timestamp is {gap} s {way} now (tolerance {tolerance} s); ")
    });
    match error {
        Gemini::Webhook(Core::TimestampTooOld | Core::TimestampTooNew) => format!(
            "{}check the sender's clock, or pass --now; `webhook-signature diagnose` with the same arguments says more",
            skew.unwrap_or_default()
        ),
        Gemini::Webhook(_) => "run `webhook-signature diagnose` with the same arguments: it names the integration mistake".to_owned(),
        _ => "run `webhook-signature inspect --signature <token>` to see the token's header and claims (unverified)".to_owned(),
    }
}

/// `valid`, `valid (key #2)`, `valid (dynamic, key <kid>); body bound` or
/// `valid (dynamic, key <kid>); body NOT authenticated (bearer token)`.
pub(crate) fn describe(mode: &Mode, key_count: usize) -> String {
    match mode {
        Mode::Static { key } if key_count > 1 => format!("valid (key #{})", key + 1),
        Mode::Dynamic(verified) => {
            let body = match verified.body {
                BodyBinding::Bound { .. } => "body bound",
                _ => "body NOT authenticated (bearer token)",
            };
            format!("valid (dynamic, key {}); {body}", verified.kid)
        }
        _ => "valid".to_owned(),
    }
}
