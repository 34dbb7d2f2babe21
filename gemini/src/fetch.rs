//! Fetching and caching a JWKS over HTTPS, for dynamic deliveries.
//!
//! Only a dynamic delivery that passed every cheap check ever causes a fetch,
//! so a receiver starts, and serves static deliveries, without the network.

use core::time::Duration;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;
use webhook_signature::Timestamp;

use crate::error::Error;
use crate::jwks::Jwks;

/// The JWKS URL in Google's Gemini API documentation.
pub const GOOGLE_JWKS_URL: &str = "https://generativelanguage.googleapis.com/.well-known/jwks.json";

/// The shortest and longest cache lifetimes; `Cache-Control: max-age` is clamped to them.
pub const MIN_CACHE: Duration = Duration::from_secs(5 * 60);
/// See [`MIN_CACHE`].
pub const MAX_CACHE: Duration = Duration::from_secs(24 * 60 * 60);
/// How long the last good keys are served while refreshes fail.
pub const STALE_LIMIT: Duration = Duration::from_secs(24 * 60 * 60);
/// The largest JWKS document read.
const MAX_DOCUMENT: usize = 1024 * 1024;

/// A JWKS, fetched when first needed and cached.
///
/// - The cache lifetime is the response's `Cache-Control: max-age`, clamped to
///   [`MIN_CACHE`]..=[`MAX_CACHE`] ([`MIN_CACHE`] without one).
/// - An unknown `kid` triggers a refresh at most once per
///   [`min_refresh_interval`](Self::with_min_refresh_interval) (30 s), so a
///   flood of random `kid`s costs one fetch per interval, however many arrive.
///   Failed fetches are rate-limited the same way.
/// - After a failed refresh the last good keys are served for up to [`STALE_LIMIT`].
/// - Every fetch times out after 5 s. One fetch runs at a time; callers that
///   need its result wait for it, and no lock is held while it runs.
///
/// Time is passed in as [`Timestamp`], as everywhere in this workspace.
#[derive(Debug)]
pub struct JwksCache {
    url: String,
    client: reqwest::Client,
    min_refresh_interval: Duration,
    state: Mutex<State>,
    fetched: Notify,
}

#[derive(Debug, Default)]
struct State {
    jwks: Option<Arc<Jwks>>,
    /// When the keys in `jwks` were fetched.
    fetched_at: u64,
    /// Until when they are fresh.
    fresh_until: u64,
    last_attempt: Option<u64>,
    fetching: bool,
    fetches: u64,
}

/// What one look at the state decided.
enum Step {
    Done(Result<Arc<Jwks>, Error>),
    Fetch,
    Wait,
}

impl JwksCache {
    /// A cache of the JWKS at `url` (`https://`, or `http://` for tests on loopback).
    ///
    /// # Panics
    /// Never: if the TLS backend cannot start, the client falls back to reqwest's default.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            url: url.into(),
            client,
            min_refresh_interval: Duration::from_secs(30),
            state: Mutex::new(State::default()),
            fetched: Notify::new(),
        }
    }

    /// A cache of Google's JWKS ([`GOOGLE_JWKS_URL`]). Nothing is fetched yet.
    #[must_use]
    pub fn google() -> Self {
        Self::new(GOOGLE_JWKS_URL)
    }

    /// The least time between two fetches caused by unknown `kid`s or failures.
    #[must_use]
    pub fn with_min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh_interval = interval;
        self
    }

    /// The URL fetched.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many fetches were started so far.
    #[must_use]
    pub fn fetches(&self) -> u64 {
        self.lock().fetches
    }

    /// Keys that can check a token with `kid`, fetching or refreshing them if
    /// needed and allowed.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`] if the keys do not have `kid` and no refresh is
    /// allowed yet or the refresh did not bring it; [`Error::KeysUnavailable`]
    /// if there are no usable keys.
    pub async fn keys(&self, kid: &str, now: Timestamp) -> Result<Arc<Jwks>, Error> {
        let now = now.as_unix_secs();
        loop {
            // Registered before the state is read, so a fetch finishing in
            // between still wakes this caller.
            let mut fetched = pin!(self.fetched.notified());
            fetched.as_mut().enable();
            match self.step(kid, now, true) {
                Step::Done(result) => return result,
                Step::Wait => fetched.await,
                Step::Fetch => {
                    let outcome = self.fetch().await;
                    self.store(outcome, now);
                    self.fetched.notify_waiters();
                    return match self.step(kid, now, false) {
                        Step::Done(result) => result,
                        Step::Fetch | Step::Wait => Err(Error::KeysUnavailable),
                    };
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere cannot leave State inconsistent: every write is one assignment.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn step(&self, kid: &str, now: u64, may_fetch: bool) -> Step {
        let mut state = self.lock();
        let usable =
            state.jwks.clone().filter(|_| now < state.fetched_at.saturating_add(STALE_LIMIT.as_secs()));
        let has_kid = usable.as_ref().is_some_and(|jwks| jwks.contains(kid));
        if has_kid && now < state.fresh_until {
            return Step::Done(usable.ok_or(Error::KeysUnavailable));
        }
        let allowed = may_fetch
            && state
                .last_attempt
                .is_none_or(|last| now >= last.saturating_add(self.min_refresh_interval.as_secs()));
        if may_fetch && state.fetching {
            // The fetch in flight may bring the key: wait for it rather than fail.
            return Step::Wait;
        }
        if allowed {
            state.fetching = true;
            state.last_attempt = Some(now);
            state.fetches = state.fetches.saturating_add(1);
            return Step::Fetch;
        }
        Step::Done(match usable {
            Some(jwks) if has_kid => Ok(jwks),
            Some(_) => Err(Error::UnknownKeyId),
            None => Err(Error::KeysUnavailable),
        })
    }

    fn store(&self, outcome: Result<(Jwks, Duration), String>, now: u64) {
        let mut state = self.lock();
        state.fetching = false;
        match outcome {
            Ok((jwks, lifetime)) => {
                for skipped in jwks.skipped() {
                    tracing::debug!(kid = ?skipped.kid, reason = %skipped.reason, "JWKS key skipped");
                }
                state.jwks = Some(Arc::new(jwks));
                state.fetched_at = now;
                state.fresh_until = now.saturating_add(lifetime.as_secs());
            }
            Err(error) => {
                tracing::warn!(url = %self.url, %error, "JWKS fetch failed; keeping the last good keys")
            }
        }
    }

    /// One GET, with no lock held.
    async fn fetch(&self) -> Result<(Jwks, Duration), String> {
        let mut response = self.client.get(&self.url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let lifetime = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|value| value.to_str().ok())
            .and_then(max_age)
            .unwrap_or(MIN_CACHE)
            .clamp(MIN_CACHE, MAX_CACHE);
        let mut document = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if document.len().saturating_add(chunk.len()) > MAX_DOCUMENT {
                return Err("JWKS document over 1 MiB".to_owned());
            }
            document.extend_from_slice(&chunk);
        }
        let jwks = Jwks::parse(&document).map_err(|e| e.to_string())?;
        if jwks.is_empty() {
            return Err("JWKS has no usable RS256 key".to_owned());
        }
        Ok((jwks, lifetime))
    }
}

/// The `max-age` of a `Cache-Control` value, if it has one.
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control
        .split(',')
        .find_map(|directive| {
            let (name, value) = directive.trim().split_once('=')?;
            name.eq_ignore_ascii_case("max-age")
                .then(|| value.trim().trim_matches('"').parse().ok())
                .flatten()
        })
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read() {
        assert_eq!(max_age("public, max-age=21600, must-revalidate"), Some(Duration::from_secs(21600)));
        assert_eq!(max_age("Max-Age=\"60\""), Some(Duration::from_secs(60)));
        assert_eq!(max_age("no-cache"), None);
        assert_eq!(max_age("max-age=-1"), None);
    }
}
