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
    /// What the sender signed, when `webhook_id` does not cover it (a dynamic
    /// Gemini delivery: its token can be resent under a new id). Unique, like
    /// `webhook_id`: a second delivery with the same key is a duplicate, for
    /// as long as the first row is kept.
    pub replay_key: Option<String>,
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
    /// This claim's token: only this attempt may renew, complete or fail the row.
    pub claim_token: i64,
    /// The row's `replay_key`: set for what the sender signed apart from
    /// `webhook_id` (a dynamic Gemini delivery), else `None`.
    pub replay_key: Option<String>,
}

impl Claimed {
    /// `attempts` as a count (it is at least 1 once claimed).
    #[must_use]
    pub fn attempt(&self) -> u32 {
        u32::try_from(self.attempts).unwrap_or(u32::MAX)
    }

    /// The claim without its body: what recording the outcome needs.
    pub(crate) fn without_body(&self) -> Self {
        Self {
            webhook_id: self.webhook_id.clone(),
            event_type: self.event_type.clone(),
            webhook_timestamp: self.webhook_timestamp,
            body: Vec::new(),
            authenticated: self.authenticated.clone(),
            attempts: self.attempts,
            claim_token: self.claim_token,
            replay_key: self.replay_key.clone(),
        }
    }
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

/// Why a rescued row became a dead letter.
pub(crate) const NEVER_REPORTED: &str =
    "the last attempt never reported back (its worker died or lost the database)";

/// A fresh claim token: 63 random bits from the standard library's
/// per-process random hash keys (the token needs to be unpredictable only to
/// the point that two claims never share one).
pub(crate) fn claim_token() -> i64 {
    use std::hash::{BuildHasher, RandomState};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let bits = RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed));
    i64::try_from(bits >> 1).unwrap_or(i64::MAX)
}
