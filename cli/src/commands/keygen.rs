//! `keygen`: new random keys from the operating system's random source.

use std::process::ExitCode;

#[cfg(feature = "ed25519")]
use base64ct::{Base64, Encoding};

use crate::random;

pub(crate) fn run() -> crate::Result<ExitCode> {
    outln!("{}", random::new_secret()?);
    #[cfg(feature = "ed25519")]
    {
        let seed = random::bytes::<32>()?;
        let secret = webhook_signature::Webhook::new(&format!("whsk_{}", Base64::encode_string(&seed)))?;
        let public = secret.public_key().ok_or("no public key")?;
        // The 64-byte form (seed, then public key) that Svix and the JavaScript proposal use.
        outln!("whsk_{}", Base64::encode_string(&[&seed[..], &public[..]].concat()));
        outln!("whpk_{}", Base64::encode_string(&public));
    }
    Ok(ExitCode::SUCCESS)
}
