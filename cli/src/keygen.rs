//! `keygen`: new random keys from the operating system's random source.

use std::process::ExitCode;

use base64ct::{Base64, Encoding};

/// Bytes of a new `whsec_` secret: 24, as Svix generates (32 base64 characters).
const SECRET_LEN: usize = 24;

pub(crate) fn run() -> crate::Result<ExitCode> {
    println!("whsec_{}", Base64::encode_string(&random::<SECRET_LEN>()?));
    #[cfg(feature = "ed25519")]
    {
        let seed = random::<32>()?;
        let secret = webhook_signature::Webhook::new(&format!("whsk_{}", Base64::encode_string(&seed)))?;
        let public = secret.public_key().ok_or("no public key")?;
        // The 64-byte form (seed, then public key) that Svix and the JavaScript proposal use.
        println!("whsk_{}", Base64::encode_string(&[&seed[..], &public[..]].concat()));
        println!("whpk_{}", Base64::encode_string(&public));
    }
    Ok(ExitCode::SUCCESS)
}

fn random<const N: usize>() -> crate::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| format!("random source: {e}"))?;
    Ok(bytes)
}

/// A fresh random `whsec_` secret.
pub(crate) fn new_secret() -> crate::Result<String> {
    Ok(format!("whsec_{}", Base64::encode_string(&random::<SECRET_LEN>()?)))
}
