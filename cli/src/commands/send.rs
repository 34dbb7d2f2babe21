//! `send`: POST a signed delivery and print the response status (and, on
//! stderr, the id it made up, to find the delivery afterwards).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use webhook_signature::{Timestamp, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP};

use super::sign;
use crate::{body_file, gemini_envelope, random, secrets};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Where to POST the delivery.
    url: String,
    /// Secret (`whsec_…` or `whsk_…`); repeat for several entries. Default: $WEBHOOK_SECRET.
    #[arg(long = "secret", env = "WEBHOOK_SECRET", value_delimiter = ' ', hide_env_values = true)]
    secrets: Vec<String>,
    /// The message id (default: a random `msg_…`).
    #[arg(long)]
    id: Option<String>,
    /// The Gemini event type of the sample envelope sent when no FILE is given.
    #[arg(long, default_value = "video.generated")]
    event: String,
    /// A body to send as is: a file, or `-` for standard input.
    file: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> crate::Result<ExitCode> {
    let keys = secrets::load(&args.secrets)?;
    let body = match &args.file {
        Some(path) => body_file::read(path)?,
        None => gemini_envelope::sample_envelope(&args.event),
    };
    let id = match &args.id {
        Some(id) => id.clone(),
        None => {
            let id = random::new_message_id()?;
            // On stderr: stdout stays the status alone, as scripts read it.
            eprintln!("webhook-id: {id}");
            id
        }
    };
    let timestamp = Timestamp::now();
    let signature = sign::signature_header(&keys, &id, timestamp, &body)?;
    let status = post(&args.url, &Delivery { id: &id, timestamp, signature: &signature, body: &body })?;
    outln!("{status}");
    Ok(if (200..300).contains(&status) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A signed delivery, ready to send.
pub(crate) struct Delivery<'a> {
    pub(crate) id: &'a str,
    pub(crate) timestamp: Timestamp,
    pub(crate) signature: &'a str,
    pub(crate) body: &'a [u8],
}

/// POSTs `delivery` to `url` and returns the response status, whatever it is.
pub(crate) fn post(url: &str, delivery: &Delivery<'_>) -> crate::Result<u16> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let response = agent
        .post(url)
        .header("content-type", "application/json")
        .header(WEBHOOK_ID, delivery.id)
        .header(WEBHOOK_TIMESTAMP, delivery.timestamp.to_string())
        .header(WEBHOOK_SIGNATURE, delivery.signature)
        .send(delivery.body)
        .map_err(|e| format!("POST {url}: {e}"))?;
    Ok(response.status().as_u16())
}
