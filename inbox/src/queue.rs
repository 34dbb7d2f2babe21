//! The bound on inserts waiting for the database: each holds a slot from
//! when it is queued until it is answered (committed, refused or skipped),
//! so the bodies held for a stalled database never exceed the bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::InboxError;

/// Inserts queued or being committed, at most `bound`.
#[derive(Debug)]
pub(crate) struct QueuedInserts {
    count: AtomicUsize,
    bound: usize,
}

/// One queued insert's place; given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot(Arc<QueuedInserts>);

impl QueuedInserts {
    pub(crate) fn new(bound: usize) -> Self {
        Self { count: AtomicUsize::new(0), bound: bound.max(1) }
    }

    /// A slot, or [`InboxError::Overloaded`] at once if all are taken.
    pub(crate) fn take(self: &Arc<Self>) -> Result<Slot, InboxError> {
        self.count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.bound).then_some(n + 1))
            .map(|_| Slot(Arc::clone(self)))
            .map_err(|_| InboxError::Overloaded)
    }

    /// Inserts queued or being committed now.
    pub(crate) fn depth(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_given_back() {
        let queued = Arc::new(QueuedInserts::new(2));
        let (a, b) = (queued.take(), queued.take());
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(queued.take().err(), Some(InboxError::Overloaded));
        assert_eq!(queued.depth(), 2);
        drop(a);
        assert_eq!(queued.depth(), 1);
        assert!(queued.take().is_ok(), "a slot given back is taken again");
    }
}
