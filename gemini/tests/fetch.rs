//! `JwksCache` against a JWKS server on 127.0.0.1: first fetch on demand,
//! rotation, failed refreshes, `kid` floods and `max-age`. Lifetimes and rate
//! limits follow a test clock set by hand, so nothing here waits on the clock.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg(all(feature = "fetch", feature = "test-util"))]

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::*;
use webhook_signature::Webhook;
use webhook_signature_gemini::{DynamicVerifier, Error, Jwks, JwksCache, Receiver, TestClock};

#[derive(Default)]
struct Served {
    document: Mutex<Option<(&'static str, &'static str)>>, // (JWKS, Cache-Control); None = HTTP 500
    requests: AtomicUsize,
    /// How long each answer waits first.
    delay: Mutex<Duration>,
}

async fn jwks(State(served): State<Arc<Served>>) -> Response {
    served.requests.fetch_add(1, Ordering::SeqCst);
    let delay = *served.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    match *served.document.lock().unwrap() {
        Some((document, cache)) => ([(header::CACHE_CONTROL, cache)], document).into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn server(document: &'static str, cache: &'static str) -> (Arc<Served>, String) {
    let served = Arc::new(Served::default());
    *served.document.lock().unwrap() = Some((document, cache));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let app = Router::new().route("/jwks.json", get(jwks)).with_state(served.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (served, url)
}

/// A cache on a test clock: `at(kid, secs)` sets the clock, then asks.
#[derive(Clone)]
struct Cache(JwksCache, TestClock);

impl Cache {
    fn new(url: String) -> Self {
        let clock = TestClock::new();
        Self(JwksCache::new(url).unwrap().with_test_clock(clock.clone()), clock)
    }

    fn with_fetch_timeout(self, timeout: Duration) -> Self {
        Self(self.0.with_fetch_timeout(timeout), self.1)
    }

    async fn at(&self, kid: &str, secs: u64) -> Result<Arc<Jwks>, Error> {
        self.1.set(secs);
        self.0.keys(kid).await
    }
}

impl std::ops::Deref for Cache {
    type Target = JwksCache;

    fn deref(&self) -> &JwksCache {
        &self.0
    }
}

#[tokio::test]
async fn nothing_is_fetched_until_needed() {
    let (served, url) = server(JWKS_A, "max-age=3600").await;
    let cache = Cache::new(url);
    assert_eq!(served.requests.load(Ordering::SeqCst), 0);
    assert!(cache.at("demo-a", 0).await.is_ok());
    assert!(cache.at("demo-a", 1).await.is_ok());
    assert_eq!((served.requests.load(Ordering::SeqCst), cache.fetches()), (1, 1));
}

#[tokio::test]
async fn rotation_brings_a_new_kid() {
    let (served, url) = server(JWKS_A, "max-age=3600").await;
    let cache = Cache::new(url);
    assert!(cache.at("demo-a", 0).await.is_ok());
    *served.document.lock().unwrap() = Some((JWKS_AB, "max-age=3600"));
    // Within 30 s of the last fetch, an unknown kid causes no fetch.
    assert_eq!(cache.at("demo-b", 29).await.err(), Some(Error::UnknownKeyId));
    assert_eq!(cache.fetches(), 1);
    let keys = cache.at("demo-b", 30).await.unwrap();
    assert!(keys.contains("demo-a") && keys.contains("demo-b"));
    assert_eq!(served.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn failed_refresh_keeps_the_last_good_keys_for_a_day() {
    let (served, url) = server(JWKS_A, "max-age=300").await;
    let cache = Cache::new(url);
    assert!(cache.at("demo-a", 0).await.is_ok());
    *served.document.lock().unwrap() = None;
    // Expired, refresh fails: the old keys still serve.
    assert!(cache.at("demo-a", 301).await.is_ok());
    assert_eq!(cache.fetches(), 2);
    // A failure is rate-limited like an unknown kid.
    assert!(cache.at("demo-a", 310).await.is_ok());
    assert_eq!(cache.fetches(), 2);
    assert!(cache.at("demo-a", 86_399).await.is_ok());
    assert_eq!(cache.at("demo-a", 86_400).await.err(), Some(Error::KeysUnavailable));
    // The server recovers.
    *served.document.lock().unwrap() = Some((JWKS_A, "max-age=300"));
    assert!(cache.at("demo-a", 86_430).await.is_ok());
}

#[tokio::test]
async fn first_fetch_failing_is_keys_unavailable() {
    let (served, url) = server(JWKS_A, "").await;
    *served.document.lock().unwrap() = None;
    let cache = Cache::new(url);
    assert_eq!(cache.at("demo-a", 0).await.err(), Some(Error::KeysUnavailable));
    // Not a JWKS at all.
    *served.document.lock().unwrap() = Some(("<html>", ""));
    assert_eq!(cache.at("demo-a", 30).await.err(), Some(Error::KeysUnavailable));
}

#[tokio::test]
async fn kid_flood_is_bounded() {
    let (served, url) = server(JWKS_A, "max-age=3600").await;
    let cache = Arc::new(Cache::new(url));
    for second in [0, 10, 29] {
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.at(&format!("random-{second}-{i}"), second).await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().err(), Some(Error::UnknownKeyId));
        }
    }
    assert_eq!(served.requests.load(Ordering::SeqCst), 1, "600 unknown kids in 30 s: one fetch");
    assert_eq!(cache.at("random", 30).await.err(), Some(Error::UnknownKeyId));
    assert_eq!(served.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn max_age_is_honoured_and_clamped() {
    for (cache_control, fresh_for) in
        [("public, max-age=3600", 3600), ("max-age=10", 300), ("max-age=999999", 86_400), ("no-cache", 300)]
    {
        let (served, url) = server(JWKS_A, cache_control).await;
        let cache = Cache::new(url);
        assert!(cache.at("demo-a", 0).await.is_ok());
        assert!(cache.at("demo-a", fresh_for - 1).await.is_ok());
        assert_eq!(served.requests.load(Ordering::SeqCst), 1, "{cache_control}: still fresh");
        // Stale: served at once, refreshed in the background.
        assert!(cache.at("demo-a", fresh_for).await.is_ok());
        assert_eq!(cache.fetches(), 2, "{cache_control}: refreshed");
        wait_for(|| served.requests.load(Ordering::SeqCst) == 2).await;
    }
}

#[tokio::test]
async fn receiver_fetches_only_for_dynamic_deliveries() {
    // A port nobody listens on: static deliveries must not care.
    let cache = JwksCache::new("http://127.0.0.1:9/jwks.json").unwrap();
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let receiver =
        Receiver::new(vec![Webhook::new(secret).unwrap()]).with_dynamic(DynamicVerifier::new([AUDIENCE]));
    let signature = Webhook::new(secret).unwrap().sign(ID, now(), BODY).unwrap().to_string();
    assert!(receiver.verify_fetching(&headers(&signature), BODY, now(), &cache).await.is_ok());
    // A dynamic delivery failing a cheap check does not fetch either.
    let expired = token(&serde_json::json!({"aud": AUDIENCE, "exp": NOW - 3600}));
    assert_eq!(
        receiver.verify_fetching(&headers(&expired), BODY, now(), &cache).await.err(),
        Some(Error::Expired)
    );
    assert_eq!(cache.fetches(), 0);
    // A good one does, and the unreachable server makes it KeysUnavailable.
    let good = token(&claims());
    assert_eq!(
        receiver.verify_fetching(&headers(&good), BODY, now(), &cache).await.err(),
        Some(Error::KeysUnavailable)
    );
    assert_eq!(cache.fetches(), 1);

    let (_, url) = server(JWKS_A, "max-age=3600").await;
    let cache = JwksCache::new(url).unwrap();
    assert!(receiver.verify_fetching(&headers(&good), BODY, now(), &cache).await.is_ok());
}

/// Polls `done` every 10 ms, for at most 10 s.
async fn wait_for(done: impl Fn() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached in 10 s");
}

#[tokio::test]
async fn a_caller_dropped_mid_fetch_does_not_stall_the_cache() {
    let (served, url) = server(JWKS_A, "max-age=3600").await;
    *served.delay.lock().unwrap() = Duration::from_millis(600);
    let cache = Cache::new(url);
    // The caller that starts the fetch hangs up after 100 ms, as a client would.
    let dropped = tokio::time::timeout(Duration::from_millis(100), cache.at("demo-a", 0)).await;
    assert!(dropped.is_err(), "the fetch is slower than the caller's patience");
    // The fetch goes on in its own task: the next caller gets its result.
    let keys = tokio::time::timeout(Duration::from_secs(5), cache.at("demo-a", 1)).await;
    assert!(keys.expect("no wait past the fetch").is_ok());
    assert_eq!((cache.fetches(), served.requests.load(Ordering::SeqCst)), (1, 1));
}

#[tokio::test]
async fn twenty_waiters_with_a_dropped_leader_finish_within_the_timeout() {
    let (served, url) = server(JWKS_A, "max-age=3600").await;
    *served.delay.lock().unwrap() = Duration::from_secs(30); // hangs past the fetch timeout
    let timeout = Duration::from_millis(500);
    let cache = Cache::new(url).with_fetch_timeout(timeout);
    let leader = tokio::spawn({
        let cache = cache.clone();
        async move { cache.at("demo-a", 0).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    leader.abort();
    let started = tokio::time::Instant::now();
    let waiters: Vec<_> = (0..20)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.at("demo-a", 1).await })
        })
        .collect();
    for waiter in waiters {
        assert_eq!(waiter.await.unwrap().err(), Some(Error::KeysUnavailable));
    }
    // Each waited for the one fetch, and none longer than its timeout (with slack for a busy machine).
    assert!(started.elapsed() < timeout + Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(cache.fetches(), 1);
    assert_eq!(cache.failed_fetches(), 1);
}

#[tokio::test]
async fn a_known_kid_is_served_while_a_refresh_hangs() {
    let (served, url) = server(JWKS_A, "max-age=300").await;
    let cache = Cache::new(url).with_fetch_timeout(Duration::from_secs(1));
    assert!(cache.at("demo-a", 0).await.is_ok());
    *served.delay.lock().unwrap() = Duration::from_secs(30);
    // Stale: this call starts the refresh, and neither it nor the next waits for it.
    for second in [301, 302] {
        let keys = tokio::time::timeout(Duration::from_secs(2), cache.at("demo-a", second)).await;
        assert!(keys.expect("served from the cache").is_ok());
    }
    assert_eq!(cache.fetches(), 2);
    // An unknown kid waits for that refresh, but not past the fetch timeout.
    let started = tokio::time::Instant::now();
    assert_eq!(cache.at("demo-b", 303).await.err(), Some(Error::UnknownKeyId));
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[test]
fn insecure_urls_are_refused() {
    use webhook_signature_gemini::JwksSetupError;
    assert!(matches!(JwksCache::new("http://jwks.example/keys"), Err(JwksSetupError::InsecureUrl(_))));
    assert!(JwksCache::new("http://127.0.0.1:1/keys").is_ok());
    assert!(JwksCache::google().is_ok());
}

/// A runtime on which `cache` claimed a fetch whose task never runs: its
/// `block_on` returned after one poll of the caller, so it polls nothing more.
fn strand_a_fetch(cache: &Cache) -> tokio::runtime::Runtime {
    let stranded = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    stranded.block_on(async {
        let mut keys = std::pin::pin!(cache.at("demo-a", 0));
        let first = std::future::poll_fn(|cx| std::task::Poll::Ready(keys.as_mut().poll(cx))).await;
        assert!(first.is_pending(), "the caller waits for the fetch it claimed");
    });
    stranded
}

#[test]
fn a_fetch_whose_task_never_runs_stops_counting_at_its_deadline() {
    let served_on = tokio::runtime::Runtime::new().unwrap();
    let (served, url) = served_on.block_on(server(JWKS_A, "max-age=3600"));
    let cache = Cache::new(url).with_fetch_timeout(Duration::from_millis(200));
    let stranded = strand_a_fetch(&cache);
    // Past the stranded fetch's deadline (and the rate limit that attempt
    // set), the next caller fetches instead of waiting for it forever.
    std::thread::sleep(Duration::from_millis(300));
    assert!(served_on.block_on(cache.at("demo-a", 30)).is_ok());
    assert_eq!((cache.fetches(), served.requests.load(Ordering::SeqCst)), (2, 1));
    // The stranded task, dropped at last, changes nothing.
    drop(stranded);
    assert!(served_on.block_on(cache.at("demo-a", 31)).is_ok());
    assert_eq!(cache.failed_fetches(), 0);
}

#[test]
fn a_fetch_task_dropped_unpolled_releases_its_claim() {
    let served_on = tokio::runtime::Runtime::new().unwrap();
    let (_, url) = served_on.block_on(server(JWKS_A, "max-age=3600"));
    let cache = Cache::new(url);
    // The runtime shuts down with the task never polled: its guard still releases.
    drop(strand_a_fetch(&cache));
    assert_eq!(cache.failed_fetches(), 1);
    let started = std::time::Instant::now();
    assert!(served_on.block_on(cache.at("demo-a", 30)).is_ok(), "a failure, rate-limited as any other");
    assert!(started.elapsed() < Duration::from_secs(4), "did not wait for the dropped fetch's deadline");
    assert_eq!(cache.fetches(), 2);
}

#[tokio::test]
async fn the_client_timeout_follows_the_fetch_timeout() {
    // Slower than the default 5 s fetch timeout, within the one configured.
    let (served, url) = server(JWKS_A, "max-age=3600").await;
    *served.delay.lock().unwrap() = Duration::from_millis(5500);
    let cache = Cache::new(url).with_fetch_timeout(Duration::from_secs(20));
    assert!(cache.at("demo-a", 0).await.is_ok());
}

#[cfg(feature = "verifier")]
#[tokio::test]
async fn the_gemini_verifier_gives_the_replay_key() {
    use webhook_signature_gemini::GeminiVerifier;
    use webhook_signature_verifier::{PendingVerification, WebhookVerifier};
    let (_, url) = server(JWKS_A, "max-age=3600").await;
    let receiver = Receiver::new(Vec::new()).with_dynamic(DynamicVerifier::new([AUDIENCE]));
    let verifier = GeminiVerifier::new(receiver, JwksCache::new(url).unwrap()).unwrap();
    let token = token(&claims());
    let mut keys = Vec::new();
    for id in ["msg_1", "msg_resent"] {
        let headers = webhook_signature::Headers { id, ..headers(&token) };
        let mut pending = verifier.begin(headers, now()).await.unwrap();
        pending.update(BODY);
        keys.push(pending.finish(BODY).unwrap().replay_key().unwrap());
    }
    let keys_a = common::jwks(JWKS_A);
    let direct = DynamicVerifier::new([AUDIENCE]).verify(&headers(&token), BODY, now(), &keys_a).unwrap();
    assert_eq!(keys, [direct.replay_key, direct.replay_key]);
}
