//! Fetching and caching a JWKS over HTTPS, for dynamic deliveries.
//!
//! Only a dynamic delivery that passed every cheap check ever causes a fetch,
//! so a receiver starts, and serves static deliveries, without the network.
//!
//! Every fetch runs in its own task: a caller that is dropped at an `.await`
//! (the client hung up, a timeout layer fired, the server is shutting down)
//! neither cancels it nor leaves it claimed. Waiters wait at most until the
//! fetch's own deadline.

use core::fmt;
use core::time::Duration;
use std::net::IpAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::time::Instant;

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
/// The default bound on one fetch, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest JWKS document read.
const MAX_DOCUMENT: usize = 1024 * 1024;

/// A JWKS, fetched when first needed and cached.
///
/// - The cache lifetime is the response's `Cache-Control: max-age`, clamped to
///   [`MIN_CACHE`]..=[`MAX_CACHE`] ([`MIN_CACHE`] without one).
/// - A known `kid` is always answered from the cache, at once: when the keys
///   are past their lifetime, a refresh starts in the background and the old
///   keys serve meanwhile (stale-while-revalidate, for up to [`STALE_LIMIT`]).
/// - An unknown `kid` triggers a refresh at most once per
///   [`min_refresh_interval`](Self::with_min_refresh_interval) (30 s), so a
///   flood of random `kid`s costs one fetch per interval, however many arrive.
///   Failed fetches are rate-limited the same way.
/// - One fetch runs at a time, in its own task, bounded by
///   [`FETCH_TIMEOUT`] (or [`with_fetch_timeout`](Self::with_fetch_timeout)).
///   Callers that need its result wait for it, never past that deadline, and
///   no lock is held while it runs. Dropping a caller never stalls the cache.
///
/// Lifetimes, the stale limit and the refresh rate limit are measured on a
/// monotonic clock, never the wall clock: a clock stepped back (NTP, a
/// restored VM) neither blocks refreshes nor keeps keys alive, and one
/// stepped forward does not expire them. A fetch whose deadline passed (its
/// task never ran: a runtime that stopped polling) no longer counts as in
/// flight. Cheap to clone: clones share the cache.
#[derive(Clone)]
pub struct JwksCache {
    shared: Arc<Shared>,
    min_refresh_interval: Duration,
    fetch_timeout: Duration,
    clock: Clock,
}

/// Seconds on a monotonic clock, from the cache's creation.
#[derive(Clone, Debug)]
enum Clock {
    Monotonic(std::time::Instant),
    #[cfg(feature = "test-util")]
    Test(TestClock),
}

impl Clock {
    fn now(&self) -> u64 {
        match self {
            Self::Monotonic(origin) => origin.elapsed().as_secs(),
            #[cfg(feature = "test-util")]
            Self::Test(clock) => clock.0.load(std::sync::atomic::Ordering::SeqCst),
        }
    }
}

/// A clock that tests set by hand, for [`JwksCache::with_test_clock`]: the
/// cache's lifetimes and rate limits then follow it instead of the monotonic
/// clock. Fetch deadlines stay on the real clock.
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
#[derive(Clone, Debug, Default)]
pub struct TestClock(Arc<std::sync::atomic::AtomicU64>);

#[cfg(feature = "test-util")]
impl TestClock {
    /// A clock at 0 s.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the clock to `secs` seconds after its start.
    pub fn set(&self, secs: u64) {
        self.0.store(secs, std::sync::atomic::Ordering::SeqCst);
    }
}

/// What the fetch task shares with the callers.
struct Shared {
    url: String,
    client: reqwest::Client,
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
    /// The fetch in flight, if one is: its number and deadline.
    in_flight: Option<(u64, Instant)>,
    fetches: u64,
    failures: u64,
    successes: u64,
}

/// What one look at the state decided.
enum Step {
    Done(Result<Arc<Jwks>, Error>),
    /// Wait for the fetch in flight, until its deadline.
    Wait(Instant),
}

/// Why a [`JwksCache`] cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwksSetupError {
    /// The URL does not parse.
    InvalidUrl(String),
    /// The URL is not `https://`, and its host is not a loopback address.
    InsecureUrl(String),
    /// The HTTP client could not be built (its TLS backend did not start).
    Client(String),
}

impl fmt::Display for JwksSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(url) => write!(f, "invalid JWKS URL: {url}"),
            Self::InsecureUrl(url) => {
                write!(f, "JWKS URL must be https:// (http:// only on a loopback address): {url}")
            }
            Self::Client(error) => write!(f, "cannot build the JWKS HTTP client: {error}"),
        }
    }
}

impl std::error::Error for JwksSetupError {}

impl JwksCache {
    /// A cache of the JWKS at `url`, with its own HTTP client: rustls, no
    /// redirects. Each fetch, connection included, is bounded by the fetch
    /// timeout ([`FETCH_TIMEOUT`], or [`with_fetch_timeout`](Self::with_fetch_timeout)).
    ///
    /// # Errors
    /// [`JwksSetupError`] if `url` is not `https://` (plain `http://` is
    /// allowed only on a loopback address, for tests), or the client cannot
    /// be built.
    pub fn new(url: impl Into<String>) -> Result<Self, JwksSetupError> {
        // No client-wide timeout: each request gets the cache's fetch timeout.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| JwksSetupError::Client(e.to_string()))?;
        Self::with_client(url, client)
    }

    /// A cache of the JWKS at `url`, fetched with the caller's `client`. Each
    /// request is given the fetch timeout, which replaces the client's own;
    /// its redirect policy is the caller's choice.
    ///
    /// # Errors
    /// [`JwksSetupError::InvalidUrl`] or [`JwksSetupError::InsecureUrl`], as for [`new`](Self::new).
    pub fn with_client(url: impl Into<String>, client: reqwest::Client) -> Result<Self, JwksSetupError> {
        let url = url.into();
        check_url(&url)?;
        Ok(Self {
            shared: Arc::new(Shared {
                url,
                client,
                state: Mutex::new(State::default()),
                fetched: Notify::new(),
            }),
            min_refresh_interval: Duration::from_secs(30),
            fetch_timeout: FETCH_TIMEOUT,
            clock: Clock::Monotonic(std::time::Instant::now()),
        })
    }

    /// A cache of Google's JWKS ([`GOOGLE_JWKS_URL`]). Nothing is fetched
    /// until the first dynamic delivery passes every cheap check.
    ///
    /// # Errors
    /// [`JwksSetupError::Client`] if the HTTP client cannot be built.
    pub fn google() -> Result<Self, JwksSetupError> {
        Self::new(GOOGLE_JWKS_URL)
    }

    /// The least time between two fetches caused by unknown `kid`s or failures.
    #[must_use]
    pub fn with_min_refresh_interval(self, interval: Duration) -> Self {
        Self { min_refresh_interval: interval, ..self }
    }

    /// The bound on one fetch, connection included, and so on any caller's
    /// wait (default [`FETCH_TIMEOUT`]).
    #[must_use]
    pub fn with_fetch_timeout(self, timeout: Duration) -> Self {
        Self { fetch_timeout: timeout, ..self }
    }

    /// Measures lifetimes and rate limits on `clock`, set by the test.
    #[cfg(feature = "test-util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    #[must_use]
    pub fn with_test_clock(self, clock: TestClock) -> Self {
        Self { clock: Clock::Test(clock), ..self }
    }

    /// The URL fetched.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// How many fetches were started so far (for tests; the receiver's
    /// metrics use the successful and failed counts).
    #[cfg(feature = "test-util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    #[must_use]
    pub fn fetches(&self) -> u64 {
        self.shared.lock().fetches
    }

    /// How many fetches brought usable keys.
    #[must_use]
    pub fn successful_fetches(&self) -> u64 {
        self.shared.lock().successes
    }

    /// How many of those fetches failed (an error, a timeout, or no usable key).
    #[must_use]
    pub fn failed_fetches(&self) -> u64 {
        self.shared.lock().failures
    }

    /// Keys that can check a token with `kid`, fetching or refreshing them if
    /// needed and allowed. Cancellation-safe: dropping the future at any
    /// point leaves the cache as if the call had not been made, except that a
    /// fetch it started goes on and serves later callers.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`] if the keys do not have `kid` and no refresh is
    /// allowed yet or the refresh did not bring it; [`Error::KeysUnavailable`]
    /// if there are no usable keys (the server is down, slow or serves none).
    pub async fn keys(&self, kid: &str) -> Result<Arc<Jwks>, Error> {
        let now = self.clock.now();
        // Registered before the state is read, so a fetch finishing in
        // between still wakes this caller.
        let mut fetched = pin!(self.shared.fetched.notified());
        fetched.as_mut().enable();
        match self.step(kid, now) {
            Step::Done(result) => result,
            Step::Wait(deadline) => {
                // The fetch task's own timeout ends at `deadline`, so this
                // bound is only a backstop: it never adds to it.
                let _ = tokio::time::timeout_at(deadline, fetched).await;
                self.shared.lookup(kid, now)
            }
        }
    }

    fn step(&self, kid: &str, now: u64) -> Step {
        let shared = &self.shared;
        let mut state = shared.lock();
        let usable = state.usable(now);
        let has_kid = usable.as_ref().is_some_and(|jwks| jwks.contains(kid));
        if has_kid && now < state.fresh_until {
            return Step::Done(answer(usable, kid));
        }
        // A fetch past its deadline is not running (its own timeout ends it
        // by then): its task was never polled. It no longer holds the claim.
        if let Some((_, deadline)) = state.in_flight.filter(|(_, deadline)| Instant::now() < *deadline) {
            // A known kid is served while the refresh runs; any other caller
            // waits for the fetch, which may bring its key.
            return if has_kid { Step::Done(answer(usable, kid)) } else { Step::Wait(deadline) };
        }
        let allowed = state
            .last_attempt
            .is_none_or(|last| now >= last.saturating_add(self.min_refresh_interval.as_secs()));
        if !allowed {
            return Step::Done(answer(usable, kid));
        }
        let timeout = self.fetch_timeout;
        let deadline = Instant::now() + timeout;
        state.fetches = state.fetches.saturating_add(1);
        let number = state.fetches;
        state.in_flight = Some((number, deadline));
        state.last_attempt = Some(now);
        drop(state);
        // Made before the spawn, so a task dropped before its first poll
        // still releases the claim.
        let guard = Release { shared: Arc::clone(shared), number, outcome: None };
        tokio::spawn(fetch_and_store(guard, now, timeout));
        match usable {
            // Stale but known: serve it, the refresh runs in the background.
            Some(jwks) if has_kid => Step::Done(Ok(jwks)),
            _ => Step::Wait(deadline),
        }
    }
}

impl State {
    /// The keys, unless they are older than the stale limit.
    fn usable(&self, now: u64) -> Option<Arc<Jwks>> {
        self.jwks.clone().filter(|_| now < self.fetched_at.saturating_add(STALE_LIMIT.as_secs()))
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave State inconsistent: every write is one assignment.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The answer once a fetch finished (or its deadline passed): no new fetch.
    fn lookup(&self, kid: &str, now: u64) -> Result<Arc<Jwks>, Error> {
        answer(self.lock().usable(now), kid)
    }

    /// One GET, with no lock held.
    async fn fetch(&self, timeout: Duration) -> Fetched {
        let request = self.client.get(&self.url).timeout(timeout);
        let mut response = request.send().await.map_err(|e| e.to_string())?;
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

/// The body of the fetch task. The guard releases the claim and wakes the
/// waiters however the task ends, even if the runtime drops it unpolled.
async fn fetch_and_store(mut guard: Release, now: u64, timeout: Duration) {
    let outcome = match tokio::time::timeout(timeout, guard.shared.fetch(timeout)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!("timed out after {timeout:?}")),
    };
    guard.outcome = Some((outcome, now));
}

/// The keys if they hold `kid`; else whether there are keys at all.
fn answer(usable: Option<Arc<Jwks>>, kid: &str) -> Result<Arc<Jwks>, Error> {
    match usable {
        Some(jwks) if jwks.contains(kid) => Ok(jwks),
        Some(_) => Err(Error::UnknownKeyId),
        None => Err(Error::KeysUnavailable),
    }
}

/// What one fetch brought: the keys and their lifetime, or why not.
type Fetched = Result<(Jwks, Duration), String>;

/// Stores a fetch's outcome (none if the task was dropped) and wakes every waiter.
struct Release {
    shared: Arc<Shared>,
    /// Which fetch this is: one whose claim was taken over changes nothing.
    number: u64,
    /// The outcome, and the clock's reading when the fetch started.
    outcome: Option<(Fetched, u64)>,
}

impl Drop for Release {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        if state.in_flight.is_none_or(|(number, _)| number != self.number) {
            return;
        }
        state.in_flight = None;
        match self.outcome.take() {
            Some((Ok((jwks, lifetime)), now)) => {
                for skipped in jwks.skipped() {
                    tracing::debug!(kid = ?skipped.kid, reason = %skipped.reason, "JWKS key skipped");
                }
                state.successes = state.successes.saturating_add(1);
                state.jwks = Some(Arc::new(jwks));
                state.fetched_at = now;
                state.fresh_until = now.saturating_add(lifetime.as_secs());
            }
            Some((Err(error), _)) => {
                state.failures = state.failures.saturating_add(1);
                tracing::warn!(url = %self.shared.url, %error, "JWKS fetch failed; keeping the last good keys");
            }
            None => {
                state.failures = state.failures.saturating_add(1);
                tracing::warn!(url = %self.shared.url, "JWKS fetch task dropped (runtime shutting down)");
            }
        }
        drop(state);
        self.shared.fetched.notify_waiters();
    }
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("JwksCache")
            .field("url", &self.shared.url)
            .field("keys", &state.jwks)
            .field("fetching", &state.in_flight.is_some())
            .field("fetch_timeout", &self.fetch_timeout)
            .finish_non_exhaustive()
    }
}

/// `https://`, or `http://` to a loopback address (a test's JWKS on 127.0.0.1).
fn check_url(url: &str) -> Result<(), JwksSetupError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| JwksSetupError::InvalidUrl(url.to_owned()))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => return Err(JwksSetupError::InvalidUrl(url.to_owned())),
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(JwksSetupError::InsecureUrl(url.to_owned())),
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

    #[test]
    fn urls_must_be_https_but_on_loopback() {
        for ok in [GOOGLE_JWKS_URL, "http://127.0.0.1:8080/jwks.json", "http://[::1]/j", "http://localhost/j"]
        {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        for insecure in ["http://example.com/jwks.json", "http://10.0.0.1/j", "ftp://127.0.0.1/j"] {
            assert!(matches!(check_url(insecure), Err(JwksSetupError::InsecureUrl(_))), "{insecure}");
        }
        assert!(matches!(check_url("not a url"), Err(JwksSetupError::InvalidUrl(_))));
    }
}
