//! What [`serve`](crate::serve) holds and what it turned away, counted, so an
//! operator can see load shedding on a dashboard instead of in debug logs.
//! A request shed at the limit never reaches the router, so the application
//! cannot count it itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use tokio::sync::Semaphore;

/// Counts kept by [`serve_with_stats`](crate::serve_with_stats), shared by its
/// clones, and read when the application renders its metrics. Nothing is
/// added to a request's path: the counters change once per connection or per
/// refusal, and the requests in flight are read off the servers' own request
/// semaphores. One `ServeStats` passed to several servers sums them.
#[derive(Clone, Debug, Default)]
pub struct ServeStats(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    accepted: AtomicU64,
    open: AtomicU64,
    expired: AtomicU64,
    shed: AtomicU64,
    /// Each server's request semaphore and its size: a slot taken is a
    /// request in flight. Weak, so a server that has returned drops out.
    slots: Mutex<Vec<(Weak<Semaphore>, usize)>>,
}

impl ServeStats {
    /// Fresh counts, all zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Connections accepted since the start.
    #[must_use]
    pub fn connections_accepted(&self) -> u64 {
        self.0.accepted.load(Ordering::Relaxed)
    }

    /// Connections being served now (at most `Limits::max_connections`; past
    /// it, new ones wait unaccepted in the listen backlog).
    #[must_use]
    pub fn connections_open(&self) -> u64 {
        self.0.open.load(Ordering::Relaxed)
    }

    /// Connections closed by `serve`'s own timer: no first request within
    /// `header_read_timeout`, or idle past `idle_timeout`.
    #[must_use]
    pub fn connections_expired(&self) -> u64 {
        self.0.expired.load(Ordering::Relaxed)
    }

    /// Requests holding a slot now (at most `Limits::max_requests`).
    #[must_use]
    pub fn requests_in_flight(&self) -> u64 {
        let mut slots = self.0.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.retain(|(semaphore, _)| semaphore.strong_count() > 0);
        let taken = slots.iter().filter_map(|(semaphore, size)| {
            Some(size.saturating_sub(semaphore.upgrade()?.available_permits()))
        });
        u64::try_from(taken.sum::<usize>()).unwrap_or(u64::MAX)
    }

    /// Requests answered 503 because no slot freed up in time.
    #[must_use]
    pub fn requests_shed(&self) -> u64 {
        self.0.shed.load(Ordering::Relaxed)
    }

    /// Counts a connection as accepted, and as open until the guard drops.
    pub(crate) fn open_connection(&self) -> OpenConnection {
        self.0.accepted.fetch_add(1, Ordering::Relaxed);
        self.0.open.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self.clone())
    }

    /// Reads requests in flight off `semaphore`, of `size` slots, from now on.
    pub(crate) fn watch_slots(&self, semaphore: &Arc<Semaphore>, size: usize) {
        let mut slots = self.0.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.push((Arc::downgrade(semaphore), size));
    }

    pub(crate) fn expired(&self) {
        self.0.expired.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn shed(&self) {
        self.0.shed.fetch_add(1, Ordering::Relaxed);
    }
}

/// An open connection, counted until dropped: a task cancelled or a
/// connection torn down mid-request still leaves the gauge right.
#[derive(Debug)]
pub(crate) struct OpenConnection(ServeStats);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_open_connection_is_counted_until_dropped() {
        let stats = ServeStats::new();
        let connection = stats.open_connection();
        assert_eq!((stats.connections_open(), stats.connections_accepted()), (1, 1));
        drop(connection);
        assert_eq!((stats.connections_open(), stats.connections_accepted()), (0, 1));
    }

    #[test]
    fn requests_in_flight_are_the_slots_taken_of_live_servers() {
        let stats = ServeStats::new();
        let (first, second) = (Arc::new(Semaphore::new(4)), Arc::new(Semaphore::new(2)));
        stats.watch_slots(&first, 4);
        stats.watch_slots(&second, 2);
        let _a = first.clone().try_acquire_many_owned(3).unwrap();
        let _b = second.clone().try_acquire_owned().unwrap();
        assert_eq!(stats.requests_in_flight(), 4);
        // A server that returned (its semaphore gone) no longer counts.
        drop((_b, second));
        assert_eq!(stats.requests_in_flight(), 3);
    }
}
