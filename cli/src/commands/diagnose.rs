//! `diagnose`: runs the real verification, then says which known
//! integration mistake explains a failure (or what the user's own code did
//! wrong, with `--computed`). Exit 0 valid, 1 not valid, 2 usage.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use webhook_signature::Headers;

use crate::body_file;
use crate::mistakes::{self, Diagnosis, Inputs};
use crate::saved_request::Saved;

/// Bodies over this are refused: the diagnosis hashes the body up to 64 times.
const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Secret (`whsec_…`); repeat during rotation. Default: $WEBHOOK_SECRET.
    #[arg(long = "secret", env = "WEBHOOK_SECRET", value_delimiter = ' ', hide_env_values = true)]
    secrets: Vec<String>,
    /// The `webhook-id` header (read from the request with --request).
    #[arg(long, required_unless_present = "request")]
    id: Option<String>,
    /// The `webhook-timestamp` header, exactly as received.
    #[arg(long, required_unless_present = "request")]
    timestamp: Option<String>,
    /// The `webhook-signature` header.
    #[arg(long, required_unless_present = "request")]
    signature: Option<String>,
    /// The current time in Unix seconds (default: the clock, or when --request was received).
    #[arg(long)]
    now: Option<u64>,
    /// Accepted clock difference in seconds.
    #[arg(long, default_value_t = 300)]
    tolerance: u64,
    /// What your own receiver computed: `v1,<base64>`, bare base64 or hex.
    #[arg(long)]
    computed: Option<String>,
    /// A raw HTTP/1.1 request, as saved by `listen --save DIR`.
    #[arg(long, conflicts_with_all = ["id", "timestamp", "signature", "file"])]
    request: Option<PathBuf>,
    /// Print `{"valid", "error", "causes", "warnings", "details"}` as JSON.
    #[arg(long)]
    json: bool,
    /// The raw body: a file, or `-` for standard input.
    file: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> crate::Result<ExitCode> {
    let Some(inputs) = inputs(args)? else { return Ok(ExitCode::from(2)) };
    let diagnosis = mistakes::diagnose(&inputs);
    if args.json {
        outln!("{}", as_json(&diagnosis));
    } else {
        print_text(&diagnosis);
    }
    let ok = diagnosis.valid && diagnosis.computed_right != Some(false);
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn inputs(args: &Args) -> crate::Result<Option<Inputs>> {
    // `--secret`, or clap's reading of `WEBHOOK_SECRET` (split on spaces).
    let secrets: Vec<String> = args.secrets.iter().filter(|secret| !secret.is_empty()).cloned().collect();
    if secrets.is_empty() {
        eprintln!("error: no secret: pass --secret or set WEBHOOK_SECRET (see --help)");
        return Ok(None);
    }
    let computed = match &args.computed {
        None => None,
        Some(text) => match mistakes::parse_computed(text) {
            Some(tag) => Some(tag),
            None => {
                eprintln!("error: --computed is not `v1,<base64>`, base64 or hex of 32 bytes (see --help)");
                return Ok(None);
            }
        },
    };
    let mut warnings = Vec::new();
    let (id, timestamp, signature, body, received) = match &args.request {
        Some(path) => {
            let saved = Saved::parse(&std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?)?;
            // The core's reading of the headers, as a receiver's: one value
            // each, the `svix-*` names where `webhook-*` are absent.
            let map = saved.header_map();
            let headers = Headers::from_header_map(&map).map_err(|e| format!("{}: {e}", path.display()))?;
            let aliased = ["id", "timestamp", "signature"].iter().any(|name| {
                !map.contains_key(format!("webhook-{name}")) && map.contains_key(format!("svix-{name}"))
            });
            if aliased {
                warnings.push(SVIX_WARNING);
            }
            let (id, timestamp, signature) =
                (headers.id.to_owned(), headers.timestamp.to_owned(), headers.signature.to_owned());
            let received = saved.received_at();
            (id, timestamp, signature, saved.body, received)
        }
        None => {
            let body = body_file::read(args.file.as_deref().unwrap_or_else(|| std::path::Path::new("-")))?;
            let text = |value: &Option<String>| value.clone().unwrap_or_default();
            (text(&args.id), text(&args.timestamp), text(&args.signature), body, None)
        }
    };
    if body.len() > MAX_BODY {
        eprintln!("error: body of {} bytes is over the 16 MiB diagnose limit", body.len());
        return Ok(None);
    }
    let now = args.now.or(received).unwrap_or_else(|| webhook_signature::Timestamp::now().as_unix_secs());
    Ok(Some(Inputs {
        secrets,
        id,
        timestamp,
        signature,
        body,
        now,
        tolerance: args.tolerance,
        computed,
        warnings,
    }))
}

const SVIX_WARNING: &str = "svix-headers: only the svix-* header names are present; this library reads them, but your own framework code may look for webhook-* only";

fn print_text(diagnosis: &Diagnosis) {
    match (&diagnosis.error, diagnosis.valid) {
        (_, true) => outln!("valid"),
        (Some(error), false) => outln!("invalid: {error}"),
        (None, false) => outln!("invalid"),
    }
    if diagnosis.computed_right == Some(true) {
        outln!("your computed signature is right");
    } else if diagnosis.computed_right == Some(false) {
        outln!("your computed signature is wrong:");
    }
    for cause in &diagnosis.causes {
        outln!("{}: {}", cause.id(), cause.explanation());
        outln!("  fix: {}", cause.fix());
    }
    if !diagnosis.details.is_empty() {
        outln!("details: {}", serde_json::Value::Object(diagnosis.details.clone()));
    }
    for warning in &diagnosis.warnings {
        outln!("warning: {warning}");
    }
}

fn as_json(diagnosis: &Diagnosis) -> serde_json::Value {
    let mut details = diagnosis.details.clone();
    if let Some(right) = diagnosis.computed_right {
        details.insert("computed_right".into(), json!(right));
    }
    json!({
        "valid": diagnosis.valid,
        "error": diagnosis.error,
        "causes": diagnosis.causes.iter().map(|c| c.id()).collect::<Vec<_>>(),
        "warnings": diagnosis.warnings.iter().map(|w| w.split(':').next().unwrap_or(w)).collect::<Vec<_>>(),
        "details": details,
    })
}
