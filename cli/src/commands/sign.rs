//! `sign`: the three headers of a delivery, or a ready curl command; with
//! `--jwt-key`, a dynamic delivery whose `webhook-signature` is an RS256 JWT.

use std::path::PathBuf;
use std::process::ExitCode;

use webhook_signature::{
    MAX_SIGNATURE_LEN, Timestamp, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, Webhook,
};

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::Digest;
use webhook_signature_gemini::TokenSigner;

use crate::{body_file, secrets};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Secret (`whsec_…` or `whsk_…`); repeat for several entries. Default: $WEBHOOK_SECRET.
    #[arg(long = "secret", env = "WEBHOOK_SECRET", value_delimiter = ' ', hide_env_values = true)]
    secrets: Vec<String>,
    /// The message id (`webhook-id`).
    #[arg(long)]
    id: String,
    /// Unix seconds (default: now).
    #[arg(long)]
    timestamp: Option<u64>,
    /// Sign a dynamic delivery instead: an RS256 JWT with this RSA private key (PKCS#8 PEM file).
    /// (`--secret` on the command line conflicts with it; a `WEBHOOK_SECRET` in
    /// the environment is ignored, see `run`.)
    #[arg(long, requires_all = ["kid", "audiences"])]
    jwt_key: Option<PathBuf>,
    /// The token's `kid` (with --jwt-key).
    #[arg(long, requires = "jwt_key")]
    kid: Option<String>,
    /// The token's `aud` (with --jwt-key); repeat for an array.
    #[arg(long = "audience", requires = "jwt_key")]
    audiences: Vec<String>,
    /// The token's `iss` (with --jwt-key).
    #[arg(long, requires = "jwt_key")]
    issuer: Option<String>,
    /// The token's lifetime in seconds: `exp` = `iat` + ttl (with --jwt-key).
    #[arg(long, default_value_t = 300)]
    ttl: u64,
    /// Add a `body_sha256` claim (base64url SHA-256 of the body), so the token binds the body.
    #[arg(long, requires = "jwt_key")]
    bind_body: bool,
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
    // clap fills `secrets` from WEBHOOK_SECRET too, so its own conflict check
    // would refuse `--jwt-key` whenever that variable is set: only a
    // `--secret` typed on the command line conflicts.
    let typed_secret = std::env::args().any(|arg| arg == "--secret" || arg.starts_with("--secret="));
    if args.jwt_key.is_some() && typed_secret {
        eprintln!(
            "error: the argument '--jwt-key <JWT_KEY>' cannot be used with '--secret <SECRETS>' (see --help)"
        );
        return Ok(ExitCode::from(2));
    }
    let body = body_file::read(&args.file)?;
    let timestamp = args.timestamp.map_or_else(Timestamp::now, Timestamp::from_unix_secs);
    let signature = match &args.jwt_key {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let signer = TokenSigner::from_pem(&pem, args.kid.clone().unwrap_or_default())?;
            let token = Token {
                audiences: &args.audiences,
                issuer: args.issuer.as_deref(),
                ttl: args.ttl,
                bind_body: args.bind_body,
            };
            token.sign(&signer, timestamp, &body)?
        }
        None => signature_header(&secrets::load(&args.secrets)?, &args.id, timestamp, &body)?,
    };
    let headers = [
        (WEBHOOK_ID, args.id.clone()),
        (WEBHOOK_TIMESTAMP, timestamp.to_string()),
        (WEBHOOK_SIGNATURE, signature),
    ];
    match &args.curl {
        None => headers.iter().for_each(|(name, value)| outln!("{name}: {value}")),
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
            outln!("{command}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The claims of a dynamic token.
pub(crate) struct Token<'a> {
    pub(crate) audiences: &'a [String],
    pub(crate) issuer: Option<&'a str>,
    pub(crate) ttl: u64,
    pub(crate) bind_body: bool,
}

impl Token<'_> {
    /// `aud`, `iat` = `timestamp`, `exp` = `iat` + ttl, `iss` if given, and
    /// `body_sha256` if the body is bound.
    pub(crate) fn sign(
        &self,
        signer: &TokenSigner,
        timestamp: Timestamp,
        body: &[u8],
    ) -> crate::Result<String> {
        let iat = timestamp.as_unix_secs();
        let mut claims = serde_json::Map::new();
        let aud = match self.audiences {
            [one] => serde_json::json!(one),
            many => serde_json::json!(many),
        };
        claims.insert("aud".into(), aud);
        claims.insert("iat".into(), iat.into());
        claims.insert("exp".into(), iat.saturating_add(self.ttl).into());
        if let Some(issuer) = self.issuer {
            claims.insert("iss".into(), issuer.into());
        }
        if self.bind_body {
            let digest = sha2::Sha256::digest(body);
            claims.insert("body_sha256".into(), Base64UrlUnpadded::encode_string(&digest).into());
        }
        Ok(signer.sign(&claims)?)
    }
}

/// Single-quotes `text` for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
