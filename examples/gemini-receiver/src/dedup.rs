//! Deduplication on `webhook-id`: deliveries are at-least-once and Gemini
//! retries for 24 hours, so the same id can arrive more than once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Remembers which message ids were already accepted.
///
/// A single process can use [`InMemoryDeduplicator`]; a service with several
/// instances needs shared storage: back this trait with Redis
/// (`SET webhook:{id} 1 NX EX 90000`) or a unique key in its database.
pub trait Deduplicator: Send + Sync {
    /// Records `id`, returning `true` the first time it is seen.
    fn first_delivery(&self, id: &str) -> bool;
}

/// An in-process [`Deduplicator`] that forgets ids after `retention`.
#[derive(Debug)]
pub struct InMemoryDeduplicator {
    retention: Duration,
    seen: Mutex<HashMap<String, Instant>>,
}

impl InMemoryDeduplicator {
    /// Retries stop after 24 hours; keep ids an hour longer than that.
    pub const RETENTION: Duration = Duration::from_secs(25 * 60 * 60);

    /// A deduplicator keeping ids for `retention`.
    #[must_use]
    pub fn new(retention: Duration) -> Self {
        Self { retention, seen: Mutex::new(HashMap::new()) }
    }
}

impl Default for InMemoryDeduplicator {
    fn default() -> Self {
        Self::new(Self::RETENTION)
    }
}

impl Deduplicator for InMemoryDeduplicator {
    fn first_delivery(&self, id: &str) -> bool {
        let now = Instant::now();
        // A poisoned lock only means another request panicked mid-insert; the map is still usable.
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.retain(|_, at| now.duration_since(*at) < self.retention);
        seen.insert(id.to_owned(), now).is_none()
    }
}
