//! Signing dynamic tokens, for tests, demos and test senders: Google signs
//! real deliveries with its own keys.

use core::fmt;
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use serde_json::{Map, Value};

/// Signs RS256 tokens with a `kid`, as a dynamic Gemini sender does, with
/// aws-lc-rs directly.
#[derive(Clone)]
pub struct TokenSigner {
    key: Arc<RsaKeyPair>,
    kid: String,
}

/// The PEM is not an RSA private key, or signing failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignError(&'static str);

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot sign token: {}", self.0)
    }
}

impl std::error::Error for SignError {}

impl TokenSigner {
    /// A signer from an RSA private key in PEM: PKCS#8 (`BEGIN PRIVATE KEY`,
    /// as `openssl genpkey` writes it) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    ///
    /// # Errors
    /// [`SignError`] if the PEM holds no RSA private key of 2048 to 8192 bits.
    pub fn from_pem(pem: &[u8], kid: impl Into<String>) -> Result<Self, SignError> {
        let pem = core::str::from_utf8(pem).map_err(|_| SignError("PEM is not text"))?;
        let key = if let Some(der) = pem_body(pem, "PRIVATE KEY") {
            RsaKeyPair::from_pkcs8(&der)
        } else if let Some(der) = pem_body(pem, "RSA PRIVATE KEY") {
            RsaKeyPair::from_der(&der)
        } else {
            return Err(SignError("no PKCS#8 or PKCS#1 private key in the PEM"));
        };
        let key = key.map_err(|_| SignError("not an RSA private key of 2048 to 8192 bits"))?;
        Ok(Self { key: Arc::new(key), kid: kid.into() })
    }

    /// The `kid` written into each token's header.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A compact JWS of `claims`, with header `{"typ":"JWT","alg":"RS256","kid":…}`.
    ///
    /// # Errors
    /// [`SignError`] if the key cannot sign.
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, SignError> {
        // In jsonwebtoken's member order, so the tokens are the same as its own.
        let kid = serde_json::to_string(&self.kid).map_err(|_| SignError("kid does not serialize"))?;
        let header = format!(r#"{{"typ":"JWT","alg":"RS256","kid":{kid}}}"#);
        let claims = serde_json::to_vec(claims).map_err(|_| SignError("claims do not serialize"))?;
        let input = format!(
            "{}.{}",
            Base64UrlUnpadded::encode_string(header.as_bytes()),
            Base64UrlUnpadded::encode_string(&claims)
        );
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut signature)
            .map_err(|_| SignError("RSA signing failed"))?;
        Ok(format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature)))
    }
}

/// The DER between `-----BEGIN {label}-----` and `-----END {label}-----`.
fn pem_body(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let (_, rest) = pem.split_once(&begin)?;
    let (body, _) = rest.split_once(&end)?;
    let text: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    Base64::decode_vec(&text).ok()
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner").field("kid", &self.kid).field("key", &"[REDACTED]").finish()
    }
}
