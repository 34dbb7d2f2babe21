//! What the extractor needs from the application's state.

use std::fmt;
use std::sync::Arc;

use webhook_signature::Timestamp;

use crate::rejections::Rejections;

/// The verifier, the body limit and the clock, shared by all requests.
/// Put it in the router's state (or make it `FromRef` of your state).
pub struct WebhookConfig<V> {
    verifier: Arc<V>,
    max_body: usize,
    clock: fn() -> Timestamp,
    rejections: Arc<Rejections>,
}

impl<V> WebhookConfig<V> {
    /// The default body limit: 1 MiB.
    pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

    /// A configuration with the default limit and the system clock.
    pub fn new(verifier: V) -> Self {
        Self {
            verifier: Arc::new(verifier),
            max_body: Self::DEFAULT_MAX_BODY,
            clock: Timestamp::now,
            rejections: Arc::default(),
        }
    }

    /// The largest body accepted, in bytes. A declared `Content-Length` above
    /// it is refused before the body is read; a body without one is cut off
    /// as soon as it passes the limit. axum's `DefaultBodyLimit` applies too:
    /// the smaller of the two wins.
    #[must_use]
    pub fn with_max_body(self, max_body: usize) -> Self {
        Self { max_body, ..self }
    }

    /// The clock, for tests.
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> Timestamp) -> Self {
        self.clock = clock;
        self
    }

    /// The verifier.
    #[must_use]
    pub fn verifier(&self) -> &Arc<V> {
        &self.verifier
    }

    /// The body limit.
    #[must_use]
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// The refused requests, counted by reason (shared by every clone). Each
    /// refusal is also logged at `debug!`, never louder: unauthenticated
    /// traffic must not be able to flood the logs.
    #[must_use]
    pub fn rejections(&self) -> &Arc<Rejections> {
        &self.rejections
    }

    pub(crate) fn now(&self) -> Timestamp {
        (self.clock)()
    }
}

impl<V> Clone for WebhookConfig<V> {
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            max_body: self.max_body,
            clock: self.clock,
            rejections: self.rejections.clone(),
        }
    }
}

impl<V> fmt::Debug for WebhookConfig<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig").field("max_body", &self.max_body).finish_non_exhaustive()
    }
}
