//! Why requests were refused, counted: the application reads the counts (for
//! metrics or a health page) instead of a log line per rejection, which
//! unauthenticated traffic could flood.

use core::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use webhook_signature_verifier::Reason;

/// Rejections counted by [`Reason`], shared by every clone of a
/// [`WebhookConfig`](crate::WebhookConfig).
#[derive(Default)]
pub struct Rejections {
    counts: [AtomicU64; Reason::ALL.len()],
}

impl Rejections {
    pub(crate) fn record(&self, reason: Reason) {
        if let Some(count) = self.counts.get(reason.index()) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many requests were refused for `reason`.
    #[must_use]
    pub fn count(&self, reason: Reason) -> u64 {
        self.counts.get(reason.index()).map_or(0, |count| count.load(Ordering::Relaxed))
    }

    /// Every reason with its count, in [`Reason::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (Reason, u64)> + '_ {
        Reason::ALL.into_iter().map(|reason| (reason, self.count(reason)))
    }

    /// The sum over every reason.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.iter().map(|(_, count)| count).sum()
    }
}

impl fmt::Debug for Rejections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter().filter(|(_, count)| *count > 0)).finish()
    }
}
