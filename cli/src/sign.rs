//! `sign`: the three headers of a delivery, or a ready curl command.

use std::path::PathBuf;
use std::process::ExitCode;

use webhook_signature::{
    MAX_SIGNATURE_LEN, Timestamp, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, Webhook,
};

use crate::{input, keys};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Secret (`whsec_…` or `whsk_…`); repeat for several entries. Default: $WEBHOOK_SECRET.
    #[arg(long = "secret")]
    secrets: Vec<String>,
    /// The message id (`webhook-id`).
    #[arg(long)]
    id: String,
    /// Unix seconds (default: now).
    #[arg(long)]
    timestamp: Option<u64>,
    /// Print a curl command that POSTs the delivery to this URL instead.
    #[arg(long)]
    curl: Option<String>,
    /// The body: a file, or `-` for standard input.
    #[arg(default_value = "-")]
    file: PathBuf,
}

/// Signs `body` with every key into one `webhook-signature` value.
pub(crate) fn signature_header(
    keys: &[Webhook],
    id: &str,
    timestamp: Timestamp,
    body: &[u8],
) -> crate::Result<String> {
    let mut out = vec![0u8; keys.len() * (MAX_SIGNATURE_LEN + 1)];
    Ok(Webhook::sign_header(keys, id, timestamp, body, &mut out)?.to_owned())
}

pub(crate) fn run(args: &Args) -> crate::Result<ExitCode> {
    let keys = keys::load(&args.secrets)?;
    let body = input::read(&args.file)?;
    let timestamp = args.timestamp.map_or_else(Timestamp::now, Timestamp::from_unix_secs);
    let signature = signature_header(&keys, &args.id, timestamp, &body)?;
    let headers = [
        (WEBHOOK_ID, args.id.clone()),
        (WEBHOOK_TIMESTAMP, timestamp.to_string()),
        (WEBHOOK_SIGNATURE, signature),
    ];
    match &args.curl {
        None => headers.iter().for_each(|(name, value)| println!("{name}: {value}")),
        Some(url) => {
            let mut command = format!("curl -sS -X POST {}", shell_quote(url));
            command.push_str(" -H 'content-type: application/json'");
            for (name, value) in &headers {
                command.push_str(&format!(" -H {}", shell_quote(&format!("{name}: {value}"))));
            }
            let data = if args.file.as_os_str() == "-" {
                "@-".to_owned()
            } else {
                format!("@{}", args.file.display())
            };
            command.push_str(&format!(" --data-binary {}", shell_quote(&data)));
            println!("{command}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Single-quotes `text` for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
