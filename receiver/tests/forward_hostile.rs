//! An application that misbehaves cannot hold the forwarder or send it
//! elsewhere: a redirect is a failure, not followed; a huge answer is read
//! only as far as the error's excerpt; an answer that never ends is cut off
//! by the forward timeout. Targets on 127.0.0.1, each test bounded.
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use gemini_receiver::forward::ERROR_EXCERPT;
use gemini_receiver::{ForwardError, Forwarder};
use webhook_signature::Webhook;
use webhook_signature_inbox::Claimed;

const FORWARD_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn claimed() -> Claimed {
    Claimed {
        webhook_id: "msg_hostile".into(),
        event_type: "batch.succeeded".into(),
        webhook_timestamp: 1_700_000_000,
        body: b"{}".to_vec(),
        authenticated: "signature".into(),
        attempts: 1,
        claim_token: 1,
        replay_key: None,
    }
}

/// Serves `app` on 127.0.0.1; its `/hook` URL.
async fn serve(app: axum::Router) -> reqwest::Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://127.0.0.1:{port}/hook").parse().unwrap()
}

fn forwarder(url: reqwest::Url, timeout: Duration) -> Forwarder {
    Forwarder::new(url, Webhook::new(FORWARD_SECRET).unwrap(), timeout).unwrap()
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_not_followed() {
    let followed = Arc::new(AtomicUsize::new(0));
    let counter = followed.clone();
    let app = axum::Router::new()
        .route(
            "/hook",
            post(|| async { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, "/elsewhere")]) }),
        )
        .route(
            "/elsewhere",
            post(move || async move {
                counter.fetch_add(1, Ordering::Relaxed);
                StatusCode::NO_CONTENT
            }),
        );
    let url = serve(app).await;
    let error = forwarder(url, Duration::from_secs(10)).forward(&claimed()).await.unwrap_err();
    assert_eq!(error.to_string(), "status 307 (redirect to /elsewhere, not followed)");
    assert_eq!(followed.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn an_answer_becomes_one_line_of_plain_text() {
    let app = axum::Router::new()
        .route("/hook", post(|| async { (StatusCode::BAD_GATEWAY, "upstream\r\n\u{1b}[2Jdown\n") }));
    let url = serve(app).await;
    let error = forwarder(url, Duration::from_secs(10)).forward(&claimed()).await.unwrap_err();
    assert_eq!(error.to_string(), "status 502: upstream   [2Jdown");
}

#[tokio::test]
async fn a_huge_answer_is_read_only_for_its_excerpt() {
    // 64 MiB of 'x', produced as it is read: never held whole by either side.
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    let app = axum::Router::new().route(
        "/hook",
        post(move || {
            let chunk = chunk.clone();
            async move {
                let stream =
                    futures_util::stream::iter((0..1024).map(move |_| Ok::<_, Infallible>(chunk.clone())));
                (StatusCode::BAD_GATEWAY, Body::from_stream(stream)).into_response()
            }
        }),
    );
    let url = serve(app).await;
    let error = tokio::time::timeout(
        Duration::from_secs(30),
        forwarder(url, Duration::from_secs(20)).forward(&claimed()),
    )
    .await
    .expect("the excerpt is read, not the whole answer")
    .unwrap_err();
    let ForwardError::Status { status, excerpt, .. } = &error else { panic!("{error}") };
    assert_eq!(*status, 502);
    assert_eq!(excerpt.len(), ERROR_EXCERPT);
}

#[tokio::test]
async fn an_answer_that_never_ends_is_cut_off_by_the_timeout() {
    let app = axum::Router::new().route(
        "/hook",
        post(|| async {
            // Headers at once, then a body that never comes.
            let stream = futures_util::stream::pending::<Result<Bytes, Infallible>>();
            (StatusCode::OK, Body::from_stream(stream)).into_response()
        }),
    );
    let url = serve(app).await;
    // A 2xx whose body stalls still counts (the application took it) once the
    // drain gives up at the timeout; a status that never comes is a timeout.
    let silent = axum::Router::new().route(
        "/hook",
        post(|| async {
            std::future::pending::<()>().await;
            StatusCode::NO_CONTENT
        }),
    );
    let silent_url = serve(silent).await;
    let bounded = Duration::from_secs(1);
    let answered =
        tokio::time::timeout(Duration::from_secs(10), forwarder(url, bounded).forward(&claimed())).await;
    assert!(answered.expect("bounded by the forward timeout").is_ok());
    let error =
        tokio::time::timeout(Duration::from_secs(10), forwarder(silent_url, bounded).forward(&claimed()))
            .await
            .expect("bounded by the forward timeout")
            .unwrap_err();
    assert!(matches!(error, ForwardError::Timeout(_)), "{error}");
    assert!(error.to_string().starts_with("timed out"), "{error}");
}
