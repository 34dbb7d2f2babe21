//! Per-job capabilities: binding a dynamic delivery to a job you created.
//!
//! A dynamic webhook URL is chosen per job by whoever calls the Gemini API,
//! and Google signs tokens for it. If the token's `aud` is your URL, anyone
//! with a Gemini API key can point a job at your endpoint and obtain
//! deliveries that verify. Google documents no claim that names the caller's
//! project, so the binding is made locally: when you create a job, issue a
//! capability (a nonce and its HMAC under a secret only your service holds)
//! and put it in the job's webhook URI, as a path segment
//! (`…/webhooks/gemini/<capability>`) or a query parameter (`?t=<capability>`).
//! On receipt, check it before anything else: a job someone else created has
//! no valid capability, since they do not hold the secret.
//!
//! A capability is as secret as the URI: it can leak through access logs or
//! proxies. It binds a delivery to *a* job you created, and with the nonce
//! kept beside the job's record (or the job's own id as the nonce), to
//! *which*: compare the event's job with the one recorded under the nonce,
//! and retire the nonce once its job's final event is handled, so a leaked
//! URI cannot serve a job someone else creates with it later.

use core::fmt;

use aws_lc_rs::hmac;
use base64ct::{Base64UrlUnpadded, Encoding};

/// Prefixes the MAC input, so the key signs nothing else by accident.
const DOMAIN: &[u8] = b"webhook-signature-gemini job capability v1\0";
/// Bytes of a random nonce: 128 bits, 22 base64url characters.
const NONCE_BYTES: usize = 16;
/// Base64url characters of the tag: HMAC-SHA256, 32 bytes.
const TAG_CHARS: usize = 43;

/// Issues and checks per-job capabilities under one local secret.
///
/// A capability is `<nonce>.<tag>`: the nonce (1 to
/// [`MAX_NONCE_LEN`](Self::MAX_NONCE_LEN) characters of `A-Z a-z 0-9 - _`,
/// random by default) and the unpadded base64url HMAC-SHA256 of the nonce
/// under the secret. Every character is unreserved in URIs (RFC 3986,
/// section 2.3), so it goes into a path segment or a query value as is.
///
/// # Examples
/// ```
/// use webhook_signature_gemini::JobCapabilities;
/// let capabilities = JobCapabilities::new(&[7; 32])?;
/// // When creating the job: put the capability in its webhook URI.
/// let capability = capabilities.issue()?;
/// let uri = format!("https://you.example/webhooks/gemini/{capability}");
/// // On receipt: the path segment must be a capability you issued.
/// let segment = uri.rsplit('/').next().unwrap_or_default();
/// let nonce = capabilities.check(segment)?;
/// assert_eq!(nonce, capability.nonce());
/// assert!(capabilities.check("forged.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct JobCapabilities {
    key: hmac::Key,
}

/// A capability for one job, to put in its webhook URI.
#[derive(Clone, PartialEq, Eq)]
pub struct JobCapability {
    /// `<nonce>.<tag>`.
    text: String,
}

/// Why a capability was refused, or a secret or nonce cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CapabilityError {
    /// The secret is shorter than [`JobCapabilities::MIN_SECRET_LEN`].
    ShortSecret,
    /// The nonce is empty, too long, or has a character outside `A-Z a-z 0-9 - _`.
    InvalidNonce,
    /// No random nonce could be drawn from the operating system.
    Random,
    /// The capability is not `<nonce>.<tag>` with a well-formed nonce and tag.
    Malformed,
    /// The tag is not this secret's HMAC of the nonce: not a capability issued here.
    Mismatch,
}

impl fmt::Display for CapabilityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ShortSecret => "capability secret shorter than 32 bytes",
            Self::InvalidNonce => "capability nonce must be 1 to 64 characters of A-Z a-z 0-9 - _",
            Self::Random => "no random nonce available",
            Self::Malformed => "malformed job capability",
            Self::Mismatch => "job capability not issued by this service",
        })
    }
}

impl std::error::Error for CapabilityError {}

impl JobCapabilities {
    /// The shortest secret accepted: 32 bytes, HMAC-SHA256's output size.
    pub const MIN_SECRET_LEN: usize = 32;
    /// The longest nonce accepted, in characters.
    pub const MAX_NONCE_LEN: usize = 64;

    /// Capabilities under `secret` (at least 32 random bytes, kept by your
    /// service only; rotating it invalidates the URIs of jobs still running).
    ///
    /// # Errors
    /// [`CapabilityError::ShortSecret`].
    pub fn new(secret: &[u8]) -> Result<Self, CapabilityError> {
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(CapabilityError::ShortSecret);
        }
        Ok(Self { key: hmac::Key::new(hmac::HMAC_SHA256, secret) })
    }

    /// A capability for a new job, with a random 128-bit nonce.
    ///
    /// # Errors
    /// [`CapabilityError::Random`] if the operating system has no randomness to give.
    pub fn issue(&self) -> Result<JobCapability, CapabilityError> {
        let mut nonce = [0_u8; NONCE_BYTES];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| CapabilityError::Random)?;
        self.issue_for(&Base64UrlUnpadded::encode_string(&nonce))
    }

    /// A capability whose nonce is `nonce`: e.g. your own record's id for the
    /// job, so that a checked capability says which job a delivery is for.
    /// Use each nonce for one job only.
    ///
    /// # Errors
    /// [`CapabilityError::InvalidNonce`].
    pub fn issue_for(&self, nonce: &str) -> Result<JobCapability, CapabilityError> {
        if !is_nonce(nonce) {
            return Err(CapabilityError::InvalidNonce);
        }
        let tag = Base64UrlUnpadded::encode_string(self.tag(nonce).as_ref());
        Ok(JobCapability { text: format!("{nonce}.{tag}") })
    }

    /// Checks a capability taken from the delivery's URI, and returns its nonce.
    ///
    /// The tag is compared in constant time (aws-lc's `hmac::verify`); the
    /// nonce, the lengths and the shape are public.
    ///
    /// # Errors
    /// [`CapabilityError::Malformed`] or [`CapabilityError::Mismatch`].
    pub fn check<'a>(&self, capability: &'a str) -> Result<&'a str, CapabilityError> {
        let (nonce, tag) = capability.split_once('.').ok_or(CapabilityError::Malformed)?;
        if !is_nonce(nonce) || tag.len() != TAG_CHARS {
            return Err(CapabilityError::Malformed);
        }
        let mut decoded = [0_u8; 32];
        let decoded = Base64UrlUnpadded::decode(tag, &mut decoded).map_err(|_| CapabilityError::Malformed)?;
        let mut input = Vec::with_capacity(DOMAIN.len().saturating_add(nonce.len()));
        input.extend_from_slice(DOMAIN);
        input.extend_from_slice(nonce.as_bytes());
        hmac::verify(&self.key, &input, decoded).map_err(|_| CapabilityError::Mismatch)?;
        Ok(nonce)
    }

    fn tag(&self, nonce: &str) -> hmac::Tag {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(DOMAIN);
        context.update(nonce.as_bytes());
        context.sign()
    }
}

/// 1 to 64 characters of the base64url alphabet.
fn is_nonce(nonce: &str) -> bool {
    (1..=JobCapabilities::MAX_NONCE_LEN).contains(&nonce.len())
        && nonce.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

impl JobCapability {
    /// `<nonce>.<tag>`, for the webhook URI.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The nonce: keep it with the job's record.
    #[must_use]
    pub fn nonce(&self) -> &str {
        self.text.split_once('.').map_or("", |(nonce, _)| nonce)
    }
}

impl fmt::Display for JobCapability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The nonce only: the whole capability is a credential.
impl fmt::Debug for JobCapability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobCapability").field("nonce", &self.nonce()).finish_non_exhaustive()
    }
}

impl fmt::Debug for JobCapabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JobCapabilities { key: [REDACTED] }")
    }
}
