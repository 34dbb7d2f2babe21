//! How long the inbox keeps trying, and how long it keeps what it finished.
//! One place for the numbers: the worker, both backends' SQL and the docs
//! read them from here.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::time::Duration;

/// Handler attempts before a row becomes a dead letter, by default.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 36;

/// The longest wait between two attempts, by default: one hour.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// How long processed rows are kept, by default: Gemini retries for 24 hours,
/// so ids are remembered an hour longer than that, to deduplicate.
pub const RETENTION_SECS: i64 = 25 * 60 * 60;

/// When a failed row is tried again, and when it is given up.
///
/// Attempt `n` (1-based) that fails waits `min(2^n s, max_backoff)`, plus a
/// jitter of up to a tenth of that (never less, so the schedule's span is a
/// floor): 2 s, 4 s, 8 s, … 2048 s, then an hour at a time. With the
/// defaults (36 attempts, at most an hour), the 35 waits add up to 25 h 8 min
/// without jitter: a downstream may be down for a whole day, as long as
/// Gemini itself retries, before anything becomes a dead letter. The last
/// failure makes a dead letter, kept until an operator retries or purges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before a dead letter (at least 1).
    pub max_attempts: u32,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: DEFAULT_MAX_ATTEMPTS, max_backoff: DEFAULT_MAX_BACKOFF }
    }
}

impl RetryPolicy {
    /// `max_attempts` attempts (at least 1), waits of at most `max_backoff`.
    #[must_use]
    pub fn new(max_attempts: u32, max_backoff: Duration) -> Self {
        Self { max_attempts: max_attempts.max(1), max_backoff }
    }

    /// The cap in whole seconds, as the SQL reads it.
    pub(crate) fn cap_secs(&self) -> i64 {
        i64::try_from(self.max_backoff.as_secs()).unwrap_or(i64::MAX)
    }

    /// `max_attempts` as the SQL reads it.
    pub(crate) fn max_attempts_i64(&self) -> i64 {
        i64::from(self.max_attempts)
    }

    /// The wait after failed attempt `attempt` (1-based), without jitter:
    /// `min(2^attempt, max_backoff)` whole seconds. The SQL of both backends
    /// computes the same (tested equal).
    #[must_use]
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exponential = 1_u64.checked_shl(attempt.clamp(1, 40)).unwrap_or(u64::MAX);
        Duration::from_secs(exponential.min(self.max_backoff.as_secs()))
    }

    /// The wait after failed attempt `attempt` of row `id`, in whole seconds:
    /// [`backoff`](Self::backoff) plus up to a tenth more. The jitter is a
    /// hash of the id and the attempt: rows that failed together (a
    /// downstream outage) spread out on their retry, and the same row gets the
    /// same wait every time it is computed.
    #[must_use]
    pub fn retry_in(&self, id: &str, attempt: u32) -> i64 {
        let base = self.backoff(attempt).as_secs();
        let spread = base / 10;
        let jitter = if spread == 0 {
            0
        } else {
            BuildHasherDefault::<DefaultHasher>::default().hash_one((id, attempt)) % (spread + 1)
        };
        i64::try_from(base.saturating_add(jitter)).unwrap_or(i64::MAX)
    }

    /// The waits between attempts, without jitter, in order: one fewer than
    /// the attempts (the last failure makes a dead letter).
    pub fn schedule(&self) -> impl Iterator<Item = Duration> + '_ {
        (1..self.max_attempts).map(|attempt| self.backoff(attempt))
    }

    /// How long a row that always fails is retried before it becomes a dead
    /// letter, at least: the sum of [`schedule`](Self::schedule).
    #[must_use]
    pub fn span(&self) -> Duration {
        self.schedule().fold(Duration::ZERO, Duration::saturating_add)
    }
}

/// How long finished rows are kept. Pending and processing rows are never
/// deleted by retention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Processed rows are deleted this long after they were received: the
    /// window in which a retried `webhook-id` is still known as a duplicate.
    pub processed: Duration,
    /// Dead letters are deleted this long after they became dead letters
    /// (`failed_at`), if set.
    /// `None` (the default): kept until an operator retries or purges them.
    pub dead_letters: Option<Duration>,
}

impl Default for Retention {
    fn default() -> Self {
        Self { processed: Duration::from_secs(RETENTION_SECS.unsigned_abs()), dead_letters: None }
    }
}

impl Retention {
    /// The cutoffs at `now` (Unix seconds): rows received before them go.
    pub(crate) fn cutoffs(&self, now: i64) -> (i64, Option<i64>) {
        let before = |keep: Duration| now.saturating_sub(i64::try_from(keep.as_secs()).unwrap_or(i64::MAX));
        (before(self.processed), self.dead_letters.map(before))
    }
}

/// Which finished rows a retention statement deletes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Finished {
    Processed,
    DeadLetters,
}

impl Finished {
    /// The column retention counts from: when a processed row was received
    /// (the dedupe window is the sender's retry window), when a dead letter
    /// became one (an operator gets the whole retention to look at it).
    /// The rows to delete, before `cutoff` (a placeholder: `?1`, `$1`), each
    /// read through its partial index.
    pub(crate) fn condition(self, cutoff: &str) -> String {
        match self {
            Self::Processed => format!("processed_at IS NOT NULL AND received_at < {cutoff}"),
            Self::DeadLetters => format!("failed_at < {cutoff}"),
        }
    }
}

/// Rows deleted by one retention statement: small enough that a delivery's
/// commit never waits long behind it (river's cleaner deletes 1,000 at a time).
pub(crate) const PURGE_BATCH: i64 = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_spans_more_than_a_day() {
        let policy = RetryPolicy::default();
        let waits: Vec<u64> = policy.schedule().map(|wait| wait.as_secs()).collect();
        assert_eq!(waits.len(), 35);
        assert_eq!(&waits[..12], [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600]);
        assert!(waits[11..].iter().all(|&wait| wait == 3600));
        assert_eq!(policy.span(), Duration::from_secs(4094 + 24 * 3600));
        assert!(policy.span() >= Duration::from_secs(24 * 3600));
    }

    #[test]
    fn jitter_adds_at_most_a_tenth() {
        let policy = RetryPolicy::default();
        for attempt in 1..=40 {
            for id in ["msg_a", "msg_b", "msg_c"] {
                let base = i64::try_from(policy.backoff(attempt).as_secs()).unwrap_or(i64::MAX);
                let wait = policy.retry_in(id, attempt);
                assert!((base..=base + base / 10).contains(&wait), "{id} #{attempt}: {wait}");
                assert_eq!(wait, policy.retry_in(id, attempt), "the same every time");
            }
        }
        let spread: std::collections::HashSet<i64> =
            (0..50).map(|i| policy.retry_in(&format!("msg_{i}"), 20)).collect();
        assert!(spread.len() > 10, "rows spread out: {spread:?}");
    }

    #[test]
    fn a_cap_of_zero_retries_at_once() {
        let policy = RetryPolicy::new(0, Duration::ZERO);
        assert_eq!(policy.max_attempts, 1);
        assert_eq!(policy.retry_in("x", 5), 0);
    }
}

#[cfg(test)]
mod readme {
    use super::*;

    /// The README's schedule table is the default policy's, row for row.
    #[test]
    fn the_readme_states_the_schedule() {
        let readme = include_str!("../README.md");
        let policy = RetryPolicy::default();
        let waits: Vec<u64> = policy.schedule().map(|wait| wait.as_secs()).collect();
        let exponential: Vec<String> =
            waits.iter().take_while(|&&w| w < 3600).map(|w| format!("{w} s")).collect();
        let first = format!("| 1 – {} | {} |", exponential.len(), exponential.join(", "));
        let hourly = format!("| {} – {} | 1 h each |", exponential.len() + 1, waits.len());
        let last = format!("| {} | none: a dead letter |", policy.max_attempts);
        for row in [&first, &hourly, &last] {
            assert!(readme.contains(row.as_str()), "the README lacks {row:?}");
        }
        assert!(waits[exponential.len()..].iter().all(|&w| w == 3600));
        let span = policy.span().as_secs();
        let stated = format!("{} h {} min {} s", span / 3600, span % 3600 / 60, span % 60);
        assert!(readme.contains(&stated), "the README lacks the span {stated}");
    }
}
