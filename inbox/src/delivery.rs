//! What goes into the inbox and what a worker gets out of it.

/// A verified delivery, ready to be committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// `webhook-id`, the primary key: a retry of the same id is a duplicate.
    pub webhook_id: String,
    /// The envelope's `type`, or `unknown`.
    pub event_type: String,
    /// `webhook-timestamp`, Unix seconds.
    pub webhook_timestamp: i64,
    /// The raw body, exactly as received.
    pub body: Vec<u8>,
    /// `signature`, or `bearer-token` for a dynamic delivery whose token does not bind the body.
    pub authenticated: String,
    /// When it was received, Unix seconds.
    pub received_at: i64,
}

/// What an insert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Inserted {
    /// A new row, now committed.
    New,
    /// The id was already in the inbox; nothing changed.
    Duplicate,
}

/// A row a worker has claimed: it holds the lease until `claimed_until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    /// `webhook-id`.
    pub webhook_id: String,
    /// The envelope's `type`, or `unknown`.
    pub event_type: String,
    /// `webhook-timestamp`, Unix seconds.
    pub webhook_timestamp: i64,
    /// The raw body.
    pub body: Vec<u8>,
    /// `signature` or `bearer-token`.
    pub authenticated: String,
    /// How many times it was claimed, this claim included.
    pub attempts: i64,
}

/// What became of a row whose handler failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Failed {
    /// It will be claimed again at `next_attempt_at` (Unix seconds).
    Retry {
        /// When.
        next_attempt_at: i64,
    },
    /// Retries are given up: `failed_at` is set, the row waits for an operator.
    DeadLetter,
    /// This worker's lease had expired and someone else holds the row now.
    LeaseLost,
}

impl Failed {
    /// The outcome as the failing UPDATE returned the row's `failed_at` and
    /// `next_attempt_at`: the same reading for both databases.
    pub(crate) fn from_columns(
        failed_at: Option<i64>,
        next_attempt_at: Option<i64>,
    ) -> Result<Self, crate::InboxError> {
        match (failed_at, next_attempt_at) {
            (Some(_), _) => Ok(Self::DeadLetter),
            (None, Some(next_attempt_at)) => Ok(Self::Retry { next_attempt_at }),
            (None, None) => Err(crate::InboxError::Database("a retry without next_attempt_at".to_owned())),
        }
    }
}

/// Handler attempts before a row becomes a dead letter.
pub const MAX_ATTEMPTS: i64 = 10;

/// How long processed and failed rows are kept: Gemini retries for 24 hours,
/// so ids are remembered an hour longer than that, to deduplicate.
pub const RETENTION_SECS: i64 = 25 * 60 * 60;

/// Seconds before retry `attempts` + 1: 2, 4, 8, … capped at one hour.
#[must_use]
pub fn backoff_secs(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(1, 12)).unwrap_or(12);
    2_i64.saturating_pow(exponent).min(3600)
}
