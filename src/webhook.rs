use core::fmt;
use core::time::Duration;

use crate::Error;
use crate::key::Key;

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
    /// A key from a secret: `whsec_` + base64, or bare base64.
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
        Self {
            key,
            tolerance: DEFAULT_TOLERANCE,
        }
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
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("key", &format_args!("[REDACTED]"))
            .field("tolerance", &self.tolerance)
            .finish()
    }
}
