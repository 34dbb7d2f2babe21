//! What a worker's handlers came to, counted: an operator alerts on retries
//! rising (a downstream is failing) long before rows turn into dead letters.

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a handled row ended, as the worker recorded it: a small fixed set,
/// fit for a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Handled {
    /// The handler succeeded and `processed_at` was committed.
    Processed,
    /// The handler failed; the row is due again after its backoff.
    Retried,
    /// The handler failed on the last attempt: the row is a dead letter.
    DeadLettered,
    /// The lease ran out before the outcome was recorded (another worker may
    /// have the row): nothing was written.
    LeaseLost,
    /// The database refused the outcome for as long as the lease allowed: the
    /// row runs again when its lease ends.
    Unrecorded,
}

impl Handled {
    /// Every outcome, in a fixed order.
    pub const ALL: [Handled; 5] =
        [Self::Processed, Self::Retried, Self::DeadLettered, Self::LeaseLost, Self::Unrecorded];

    /// A stable `snake_case` name, e.g. `"dead_lettered"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Retried => "retried",
            Self::DeadLettered => "dead_lettered",
            Self::LeaseLost => "lease_lost",
            Self::Unrecorded => "unrecorded",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Handled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A worker's outcomes counted by [`Handled`], shared by the worker's clones
/// and its loops (and by several workers given the same handle).
#[derive(Clone, Default)]
pub struct WorkerStats(Arc<Counts>);

#[derive(Default)]
struct Counts {
    handled: [AtomicU64; Handled::ALL.len()],
    panics: AtomicU64,
}

impl WorkerStats {
    /// Fresh counts, all zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn record(&self, outcome: Handled) {
        if let Some(count) = self.0.handled.get(outcome.index()) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn record_panic(&self) {
        self.0.panics.fetch_add(1, Ordering::Relaxed);
    }

    /// How many rows ended as `outcome`.
    #[must_use]
    pub fn count(&self, outcome: Handled) -> u64 {
        self.0.handled.get(outcome.index()).map_or(0, |count| count.load(Ordering::Relaxed))
    }

    /// How many handler calls panicked (each also counted as a failure of its
    /// row: `retried` or `dead_lettered`).
    #[must_use]
    pub fn panics(&self) -> u64 {
        self.0.panics.load(Ordering::Relaxed)
    }

    /// Every outcome with its count, in [`Handled::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (Handled, u64)> + '_ {
        Handled::ALL.into_iter().map(|outcome| (outcome, self.count(outcome)))
    }
}

impl fmt::Debug for WorkerStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter().filter(|(_, count)| *count > 0)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_follow_all() {
        for (i, outcome) in Handled::ALL.into_iter().enumerate() {
            assert_eq!(outcome.index(), i, "{outcome}");
        }
    }
}
