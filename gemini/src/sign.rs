//! Signing dynamic tokens, for tests, demos and test senders: Google signs
//! real deliveries with its own keys.

use core::fmt;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};

/// Signs RS256 tokens with a `kid`, as a dynamic Gemini sender does.
#[derive(Clone)]
pub struct TokenSigner {
    key: EncodingKey,
    kid: String,
}

/// The PEM is not an RSA private key, or signing failed; the cause is its
/// [`source`](std::error::Error::source).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignError(jsonwebtoken::errors::Error);

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot sign token")
    }
}

impl std::error::Error for SignError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl TokenSigner {
    /// A signer from an RSA private key in PEM (PKCS#8 or PKCS#1).
    ///
    /// # Errors
    /// [`SignError`] if the PEM holds no RSA private key.
    pub fn from_pem(pem: &[u8], kid: impl Into<String>) -> Result<Self, SignError> {
        let key = EncodingKey::from_rsa_pem(pem).map_err(SignError)?;
        Ok(Self { key, kid: kid.into() })
    }

    /// The `kid` written into each token's header.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A compact JWS of `claims`, with header `{"alg":"RS256","typ":"JWT","kid":…}`.
    ///
    /// # Errors
    /// [`SignError`] if the key cannot sign.
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, SignError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(SignError)
    }
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner").field("kid", &self.kid).field("key", &"[REDACTED]").finish()
    }
}
