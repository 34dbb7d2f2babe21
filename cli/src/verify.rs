//! `verify`: exits 0 printing `valid`, or 1 with the precise reason.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use webhook_signature::{Headers, Timestamp, Webhook};

use crate::{input, keys};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Secret (`whsec_…`, `whpk_…` or `whsk_…`); repeat during rotation. Default: $WEBHOOK_SECRET.
    #[arg(long = "secret")]
    secrets: Vec<String>,
    /// The `webhook-id` header.
    #[arg(long)]
    id: String,
    /// The `webhook-timestamp` header, exactly as received.
    #[arg(long)]
    timestamp: String,
    /// The `webhook-signature` header.
    #[arg(long)]
    signature: String,
    /// The current time in Unix seconds (default: the system clock).
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
    let keys: Vec<Webhook> =
        keys::load(&args.secrets)?.into_iter().map(|k| k.with_tolerance(tolerance)).collect();
    let body = input::read(&args.file)?;
    let headers = Headers { id: &args.id, timestamp: &args.timestamp, signature: &args.signature };
    let now = args.now.map_or_else(Timestamp::now, Timestamp::from_unix_secs);
    match Webhook::verify_any(&keys, &headers, &body, now) {
        Ok(index) if keys.len() > 1 => println!("valid (key #{})", index + 1),
        Ok(_) => println!("valid"),
        Err(error) => {
            eprintln!("invalid: {error}");
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}
