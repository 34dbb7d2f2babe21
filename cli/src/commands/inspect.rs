//! `inspect`: prints a dynamic token's header and claims, UNVERIFIED, so a
//! user can see what Google puts in `aud` and `iss` before configuring them.

use std::process::ExitCode;

use webhook_signature_gemini::token::UnverifiedToken;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The `webhook-signature` header of a dynamic delivery (a JWT).
    #[arg(long)]
    signature: String,
}

pub(crate) fn run(args: &Args) -> crate::Result<ExitCode> {
    let token = UnverifiedToken::parse(args.signature.trim()).map_err(|e| format!("cannot inspect: {e}"))?;
    outln!("UNVERIFIED: the signature was not checked; nothing below is trusted");
    outln!("header: {}", serde_json::to_string_pretty(&token.header)?);
    outln!("claims: {}", serde_json::to_string_pretty(&token.claims)?);
    Ok(ExitCode::SUCCESS)
}
