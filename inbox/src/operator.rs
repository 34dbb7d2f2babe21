//! What an operator sees and does: counts by state, rows, a retry of dead
//! letters, and a purge (with a dry run). The SQL lives beside each backend;
//! the meaning of each state lives here, once.

use core::fmt;
use core::str::FromStr;

/// Where a row stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Waiting for a worker (never claimed, its lease expired, or due for a retry).
    Pending,
    /// Claimed by a worker whose lease is live.
    Processing,
    /// Handled: `processed_at` is set.
    Processed,
    /// A dead letter: every attempt its [`RetryPolicy`](crate::RetryPolicy) allows failed; `failed_at` is set.
    Failed,
}

impl State {
    /// Every state, in the order a row goes through them.
    pub const ALL: [State; 4] = [Self::Pending, Self::Processing, Self::Processed, Self::Failed];

    /// `"pending"`, `"processing"`, `"processed"` or `"failed"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Processed => "processed",
            Self::Failed => "failed",
        }
    }

    /// The SQL condition for rows in this state at `now` (the parameter `now`
    /// is spelled by the backend: `?1` or `$1`).
    pub(crate) fn condition(self, now: &str) -> String {
        match self {
            Self::Pending => format!(
                "(processed_at IS NULL AND failed_at IS NULL AND (claimed_until IS NULL OR claimed_until < {now}))"
            ),
            Self::Processing => {
                format!("(processed_at IS NULL AND failed_at IS NULL AND claimed_until >= {now})")
            }
            Self::Processed => "(processed_at IS NOT NULL)".to_owned(),
            Self::Failed => "(failed_at IS NOT NULL)".to_owned(),
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| format!("unknown state {text:?}: pending, processing, processed or failed"))
    }
}

/// Counts by state, and the oldest pending row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Rows waiting for a worker.
    pub pending: u64,
    /// Rows a worker holds a live lease on.
    pub processing: u64,
    /// Rows handled.
    pub processed: u64,
    /// Dead letters.
    pub failed: u64,
    /// `received_at` of the oldest row not yet processed nor dead.
    pub oldest_pending: Option<i64>,
    /// Since when the longest-waiting due row has been due: the
    /// processing lag is `now` minus this. Rows waiting out a backoff or held
    /// by a worker are not due, so a failing downstream does not look like a
    /// stalled worker.
    pub oldest_due: Option<i64>,
}

impl Stats {
    /// The count for `state`.
    #[must_use]
    pub fn count(&self, state: State) -> u64 {
        match state {
            State::Pending => self.pending,
            State::Processing => self.processing,
            State::Processed => self.processed,
            State::Failed => self.failed,
        }
    }
}

/// One row, as an operator sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Row {
    /// `webhook-id`.
    pub webhook_id: String,
    /// The envelope's `type`, or `unknown`.
    pub event_type: String,
    /// `webhook-timestamp`, Unix seconds.
    pub webhook_timestamp: i64,
    /// When it was committed, Unix seconds.
    pub received_at: i64,
    /// How many times it was claimed.
    pub attempts: i64,
    /// When it was handled.
    pub processed_at: Option<i64>,
    /// When it became a dead letter.
    pub failed_at: Option<i64>,
    /// The worker holding (or last holding) its lease.
    pub claimed_by: Option<String>,
    /// Until when that lease lasts.
    pub claimed_until: Option<i64>,
    /// When a failed attempt is retried.
    pub next_attempt_at: Option<i64>,
    /// `signature` or `bearer-token`.
    pub authenticated: String,
    /// Why the last attempt failed, if one did.
    pub last_error: Option<String>,
    /// The raw body, when asked for ([`Inbox::get`](crate::Inbox::get)).
    pub body: Option<Vec<u8>>,
}

impl Row {
    /// Its state at `now` (Unix seconds).
    #[must_use]
    pub fn state(&self, now: i64) -> State {
        if self.processed_at.is_some() {
            State::Processed
        } else if self.failed_at.is_some() {
            State::Failed
        } else if self.claimed_until.is_some_and(|until| until >= now) {
            State::Processing
        } else {
            State::Pending
        }
    }
}

/// Which rows [`Inbox::list`](crate::Inbox::list) returns, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Filter {
    /// Only rows in this state.
    pub state: Option<State>,
    /// Only rows of this event type.
    pub event_type: Option<String>,
    /// At most this many.
    pub limit: usize,
}

impl Default for Filter {
    fn default() -> Self {
        Self { state: None, event_type: None, limit: 100 }
    }
}

impl Filter {
    /// Only rows in `state`.
    #[must_use]
    pub fn state(self, state: Option<State>) -> Self {
        Self { state, ..self }
    }

    /// Only rows of `event_type`.
    #[must_use]
    pub fn event_type(self, event_type: Option<String>) -> Self {
        Self { event_type, ..self }
    }

    /// At most `limit` rows.
    #[must_use]
    pub fn limit(self, limit: usize) -> Self {
        Self { limit, ..self }
    }
}

/// Which rows [`Inbox::retry`](crate::Inbox::retry) makes due now.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retry {
    /// These ids (those that are dead letters), attempts reset.
    Ids(Vec<String>),
    /// Every dead letter, attempts reset.
    AllFailed,
    /// Every pending row waiting out a backoff, attempts kept: after an
    /// outage of the handler's downstream, the backlog is tried at once
    /// instead of at each row's next retry (up to an hour away).
    AllPending,
}

/// The most rows one statement of [`Retry::AllFailed`] or
/// [`Retry::AllPending`] changes: each batch commits on its own, so a
/// backlog of a million rows never holds the write lock (SQLite) or a
/// statement's time bound (PostgreSQL) for long, as retention's batches.
pub(crate) const RETRY_BATCH: u64 = 1_000;

/// What a retry sets, and which rows it may change: never a row a worker
/// holds.
pub(crate) fn retry_change(which: &Retry) -> (&'static str, &'static str) {
    match which {
        Retry::Ids(_) | Retry::AllFailed => (
            "attempts = 0, failed_at = NULL, next_attempt_at = NULL",
            "failed_at IS NOT NULL AND processed_at IS NULL AND claimed_by IS NULL",
        ),
        // A row in backoff without its `next_attempt_at` is due at
        // `received_at`: at once, and in the order received.
        Retry::AllPending => (
            "next_attempt_at = NULL",
            "next_attempt_at IS NOT NULL AND processed_at IS NULL AND failed_at IS NULL AND claimed_by IS NULL",
        ),
    }
}

/// The columns an operator's row is read from, in [`Row`]'s order (body last).
pub(crate) const COLUMNS: &str = "webhook_id, event_type, webhook_timestamp, received_at, attempts, \
    processed_at, failed_at, claimed_by, claimed_until, next_attempt_at, authenticated, last_error";

/// The purge's condition: received before the cutoff, and in one of `states`
/// (never a pending or processing row).
pub(crate) fn purge_condition(states: &[State], cutoff: &str) -> Option<String> {
    let kept: Vec<String> = states
        .iter()
        .filter(|state| matches!(state, State::Processed | State::Failed))
        .map(|state| state.condition(""))
        .collect();
    (!kept.is_empty()).then(|| format!("received_at < {cutoff} AND ({})", kept.join(" OR ")))
}
