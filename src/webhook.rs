use core::fmt;
use core::time::Duration;

use crate::key::Key;
use crate::{Error, Scheme};

/// The tolerance the Standard Webhooks reference libraries use: five minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// A webhook key, ready to sign and verify deliveries.
///
/// It holds pre-keyed hash states, never the secret text. `Debug` redacts the
/// key, and there is deliberately no `PartialEq`.
///
/// # Examples
/// ```
/// use core::time::Duration;
/// use webhook_signature::Webhook;
/// let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?
///     .with_tolerance(Duration::from_secs(60));
/// assert_eq!(format!("{webhook:?}"), "Webhook { key: [REDACTED], tolerance: 60s }");
/// # Ok::<(), webhook_signature::Error>(())
/// ```
#[derive(Clone)]
pub struct Webhook {
    pub(crate) key: Key,
    pub(crate) tolerance: Duration,
}

impl Webhook {
    /// A key from a secret: `whsec_` + base64, or bare base64; with the
    /// `ed25519` feature also `whpk_` (public, verify only) and `whsk_` + base64.
    ///
    /// The base64 is the standard alphabet; padding is optional but must be
    /// correct when present, and unused trailing bits are ignored, as in every
    /// reference library. Keys up to [`MAX_KEY_LEN`](crate::MAX_KEY_LEN) bytes
    /// are decoded on the stack; there is no minimum length.
    ///
    /// # Errors
    /// [`Error::InvalidSecret`] if the text is not base64 of a non-empty key
    /// of at most `MAX_KEY_LEN` bytes.
    pub fn new(secret: &str) -> Result<Self, Error> {
        Key::parse(secret).map(Self::with_key)
    }

    /// A `v1` (HMAC-SHA256) key from raw bytes.
    ///
    /// # Errors
    /// [`Error::InvalidSecret`] if `key` is empty.
    ///
    /// # Examples
    /// ```
    /// use webhook_signature::{Error, Webhook};
    /// assert!(Webhook::from_key(b"raw key bytes").is_ok());
    /// assert_eq!(Webhook::from_key(b"").unwrap_err(), Error::InvalidSecret);
    /// ```
    pub fn from_key(key: &[u8]) -> Result<Self, Error> {
        Key::hmac(key).map(Self::with_key)
    }

    fn with_key(key: Key) -> Self {
        Self { key, tolerance: DEFAULT_TOLERANCE }
    }

    /// The same key with another timestamp tolerance (default five minutes).
    /// Whole seconds count; a fraction of a second is ignored.
    #[must_use]
    pub fn with_tolerance(self, tolerance: Duration) -> Self {
        Self { tolerance, ..self }
    }

    /// The timestamp tolerance.
    #[must_use]
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// The scheme this key signs and verifies: `v1` (HMAC) or `v1a` (Ed25519).
    #[must_use]
    pub fn scheme(&self) -> Scheme {
        match self.key {
            Key::Hmac(_) => Scheme::V1,
            #[cfg(feature = "ed25519")]
            Key::Ed25519Public(_) | Key::Ed25519Secret(..) => Scheme::V1a,
        }
    }

    /// Whether [`sign`](Self::sign) works: false for an Ed25519 public key.
    #[must_use]
    pub fn can_sign(&self) -> bool {
        match self.key {
            #[cfg(feature = "ed25519")]
            Key::Ed25519Public(_) => false,
            _ => true,
        }
    }

    /// The Ed25519 public key, to hand to receivers as `whpk_` + base64; `None`
    /// for an HMAC key.
    ///
    /// # Examples
    /// ```
    /// use webhook_signature::Webhook;
    /// let secret = Webhook::new("whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=")?;
    /// let public = Webhook::new("whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=")?;
    /// assert_eq!(secret.public_key(), public.public_key());
    /// assert!(!public.can_sign());
    /// # Ok::<(), webhook_signature::Error>(())
    /// ```
    #[cfg(feature = "ed25519")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ed25519")))]
    #[must_use]
    pub fn public_key(&self) -> Option<[u8; 32]> {
        match &self.key {
            Key::Ed25519Public(key) | Key::Ed25519Secret(_, key) => Some(key.to_bytes()),
            Key::Hmac(_) => None,
        }
    }
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("key", &format_args!("[REDACTED]"))
            .field("tolerance", &self.tolerance)
            .finish()
    }
}
