//! `JwksCache` against a JWKS server on 127.0.0.1: first fetch on demand,
//! rotation, failed refreshes, `kid` floods and `max-age`. Time is passed in,
//! so nothing here waits on the clock.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg(feature = "fetch")]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::*;
use webhook_signature::{Timestamp, Webhook};
use webhook_signature_gemini::{DynamicVerifier, Error, JwksCache, Receiver};

#[derive(Default)]
struct Served {
    document: Mutex<Option<(&'static str, &'static str)>>, // (JWKS, Cache-Control); None = HTTP 500
    requests: AtomicUsize,
}

async fn jwks(State(served): State<Arc<Served>>) -> Response {
    served.requests.fetch_add(1, Ordering::SeqCst);
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

fn at(secs: u64) -> Timestamp {
    Timestamp::from_unix_secs(NOW + secs)
}

#[tokio::test]
async fn nothing_is_fetched_until_needed() {
    let (served, url) = server(JWKS_A, "max-age=3600").await;
    let cache = JwksCache::new(url);
    assert_eq!(served.requests.load(Ordering::SeqCst), 0);
    assert!(cache.keys("demo-a", at(0)).await.is_ok());
    assert!(cache.keys("demo-a", at(1)).await.is_ok());
    assert_eq!((served.requests.load(Ordering::SeqCst), cache.fetches()), (1, 1));
}

#[tokio::test]
async fn rotation_brings_a_new_kid() {
    let (served, url) = server(JWKS_A, "max-age=3600").await;
    let cache = JwksCache::new(url);
    assert!(cache.keys("demo-a", at(0)).await.is_ok());
    *served.document.lock().unwrap() = Some((JWKS_AB, "max-age=3600"));
    // Within 30 s of the last fetch, an unknown kid causes no fetch.
    assert_eq!(cache.keys("demo-b", at(29)).await.err(), Some(Error::UnknownKeyId));
    assert_eq!(cache.fetches(), 1);
    let keys = cache.keys("demo-b", at(30)).await.unwrap();
    assert!(keys.contains("demo-a") && keys.contains("demo-b"));
    assert_eq!(served.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn failed_refresh_keeps_the_last_good_keys_for_a_day() {
    let (served, url) = server(JWKS_A, "max-age=300").await;
    let cache = JwksCache::new(url);
    assert!(cache.keys("demo-a", at(0)).await.is_ok());
    *served.document.lock().unwrap() = None;
    // Expired, refresh fails: the old keys still serve.
    assert!(cache.keys("demo-a", at(301)).await.is_ok());
    assert_eq!(cache.fetches(), 2);
    // A failure is rate-limited like an unknown kid.
    assert!(cache.keys("demo-a", at(310)).await.is_ok());
    assert_eq!(cache.fetches(), 2);
    assert!(cache.keys("demo-a", at(86_399)).await.is_ok());
    assert_eq!(cache.keys("demo-a", at(86_400)).await.err(), Some(Error::KeysUnavailable));
    // The server recovers.
    *served.document.lock().unwrap() = Some((JWKS_A, "max-age=300"));
    assert!(cache.keys("demo-a", at(86_430)).await.is_ok());
}

#[tokio::test]
async fn first_fetch_failing_is_keys_unavailable() {
    let (served, url) = server(JWKS_A, "").await;
    *served.document.lock().unwrap() = None;
    let cache = JwksCache::new(url);
    assert_eq!(cache.keys("demo-a", at(0)).await.err(), Some(Error::KeysUnavailable));
    // Not a JWKS at all.
    *served.document.lock().unwrap() = Some(("<html>", ""));
    assert_eq!(cache.keys("demo-a", at(30)).await.err(), Some(Error::KeysUnavailable));
}

#[tokio::test]
async fn kid_flood_is_bounded() {
    let (served, url) = server(JWKS_A, "max-age=3600").await;
    let cache = Arc::new(JwksCache::new(url));
    for second in [0, 10, 29] {
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.keys(&format!("random-{second}-{i}"), at(second)).await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().err(), Some(Error::UnknownKeyId));
        }
    }
    assert_eq!(served.requests.load(Ordering::SeqCst), 1, "600 unknown kids in 30 s: one fetch");
    assert_eq!(cache.keys("random", at(30)).await.err(), Some(Error::UnknownKeyId));
    assert_eq!(served.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn max_age_is_honoured_and_clamped() {
    for (cache_control, fresh_for) in
        [("public, max-age=3600", 3600), ("max-age=10", 300), ("max-age=999999", 86_400), ("no-cache", 300)]
    {
        let (served, url) = server(JWKS_A, cache_control).await;
        let cache = JwksCache::new(url);
        assert!(cache.keys("demo-a", at(0)).await.is_ok());
        assert!(cache.keys("demo-a", at(fresh_for - 1)).await.is_ok());
        assert_eq!(served.requests.load(Ordering::SeqCst), 1, "{cache_control}: still fresh");
        assert!(cache.keys("demo-a", at(fresh_for)).await.is_ok());
        assert_eq!(served.requests.load(Ordering::SeqCst), 2, "{cache_control}: refreshed");
    }
}

#[tokio::test]
async fn receiver_fetches_only_for_dynamic_deliveries() {
    // A port nobody listens on: static deliveries must not care.
    let cache = JwksCache::new("http://127.0.0.1:9/jwks.json");
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
    let cache = JwksCache::new(url);
    assert!(receiver.verify_fetching(&headers(&good), BODY, now(), &cache).await.is_ok());
}
