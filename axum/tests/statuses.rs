//! Every status the extractor answers, in-process with `tower::ServiceExt::oneshot`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Extension};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::post;
use axum::{Router, middleware};
use common::*;
use http_body_util::BodyExt;
use tower::ServiceExt;
use webhook_signature_axum::VerifiedWebhook;

const BODY: &[u8] = br#"{"type":"batch.succeeded","data":{"id":"b1"}}"#;

fn request(headers: &[(&str, &str)], body: Vec<u8>) -> Request<Body> {
    let mut builder = Request::post("/hook");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(body)).unwrap()
}

async fn status_of(app: &Router, headers: &[(&str, &str)], body: &[u8]) -> (StatusCode, String) {
    let response = app.clone().oneshot(request(headers, body.to_vec())).await.unwrap();
    let status = response.status();
    let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    (status, text)
}

fn signed(secret: &str, timestamp: u64, body: &[u8]) -> [(&'static str, String); 3] {
    [
        ("webhook-id", "msg_1".to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", sign(secret, "msg_1", timestamp, body)),
    ]
}

fn as_refs<'a>(headers: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    headers.iter().map(|(name, value)| (*name, value.as_str())).collect()
}

#[tokio::test]
async fn valid_and_rotated_deliveries_pass() {
    let app = app();
    let response =
        app.clone().oneshot(request(&as_refs(&signed(CURRENT, NOW, BODY)), BODY.to_vec())).await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.headers()["x-key"], "0");
    assert_eq!(response.headers()["x-len"], BODY.len().to_string());
    let rotated = app.oneshot(request(&as_refs(&signed(PREVIOUS, NOW, BODY)), BODY.to_vec())).await.unwrap();
    assert_eq!(rotated.headers()["x-key"], "1");
}

#[tokio::test]
async fn malformed_headers_are_400() {
    let app = app();
    let good = signed(CURRENT, NOW, BODY);
    for missing in 0..3 {
        let mut headers = as_refs(&good);
        headers.remove(missing);
        assert_eq!(status_of(&app, &headers, BODY).await.0, StatusCode::BAD_REQUEST, "without #{missing}");
    }
    let mut duplicated = as_refs(&good);
    duplicated.push(("webhook-signature", "v1,AAAA"));
    assert_eq!(status_of(&app, &duplicated, BODY).await.0, StatusCode::BAD_REQUEST);
    let malformed = [
        ("webhook-id", "msg_1"),
        ("webhook-timestamp", "+1795000000"),
        ("webhook-signature", good[2].1.as_str()),
    ];
    assert_eq!(status_of(&app, &malformed, BODY).await.0, StatusCode::BAD_REQUEST);
    // A non-ASCII header value (bytes outside visible ASCII).
    let mut request = request(&as_refs(&good), BODY.to_vec());
    request.headers_mut().insert("webhook-id", axum::http::HeaderValue::from_bytes(b"msg_\xe9").unwrap());
    assert_eq!(app.clone().oneshot(request).await.unwrap().status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unauthenticated_is_401_and_says_nothing_more() {
    let app = app();
    let cases = [
        ("stale", signed(CURRENT, NOW - 301, BODY)),
        ("too new", signed(CURRENT, NOW + 301, BODY)),
        ("unknown key", signed("whsec_a2V5", NOW, BODY)),
    ];
    for (name, headers) in &cases {
        assert_eq!(
            status_of(&app, &as_refs(headers), BODY).await,
            (StatusCode::UNAUTHORIZED, "Unauthorized".to_owned()),
            "{name}"
        );
    }
    let unsupported =
        [("webhook-id", "msg_1"), ("webhook-timestamp", "1795000000"), ("webhook-signature", "v2,abc")];
    assert_eq!(status_of(&app, &unsupported, BODY).await.0, StatusCode::UNAUTHORIZED);
    let good = signed(CURRENT, NOW, BODY);
    assert_eq!(status_of(&app, &as_refs(&good), b"tampered").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn over_either_limit_is_413() {
    let app = app();
    let big = vec![b' '; LIMIT + 1];
    let headers = signed(CURRENT, NOW, &big);
    let mut with_length = as_refs(&headers);
    let length = big.len().to_string();
    with_length.push(("content-length", &length));
    assert_eq!(status_of(&app, &with_length, &big).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    // Exactly at the limit passes.
    let exact = vec![b' '; LIMIT];
    assert_eq!(
        status_of(&app, &as_refs(&signed(CURRENT, NOW, &exact)), &exact).await.0,
        StatusCode::NO_CONTENT
    );
    // axum's DefaultBodyLimit below the extractor's: the smaller wins.
    let small_axum = Router::new()
        .route("/hook", post(|_: VerifiedWebhook| async { StatusCode::NO_CONTENT }))
        .layer(DefaultBodyLimit::max(100))
        .with_state(config());
    let body = vec![b' '; 101];
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body.chunks(10).map(|c| Ok(c.to_vec())).collect();
    let stream = Body::from_stream(futures_util::stream::iter(chunks));
    let mut request = Request::post("/hook").body(stream).unwrap();
    for (name, value) in signed(CURRENT, NOW, &body) {
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    assert_eq!(small_axum.oneshot(request).await.unwrap().status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn extensions_and_other_extractors_work_beside_it() {
    #[derive(Clone)]
    struct Tenant(&'static str);
    let app = Router::new()
        .route(
            "/hook",
            post(|Extension(tenant): Extension<Tenant>, headers: HeaderMap, webhook: VerifiedWebhook| async move {
                format!("{} {} {} {}", tenant.0, headers["x-request-id"].to_str().unwrap(), webhook.id, webhook.timestamp)
            }),
        )
        .layer(middleware::from_fn(|mut request: axum::extract::Request, next: middleware::Next| async move {
            request.extensions_mut().insert(Tenant("acme"));
            next.run(request).await
        }))
        .with_state(config());
    let signed = signed(CURRENT, NOW, BODY);
    let mut headers = as_refs(&signed);
    headers.push(("x-request-id", "r-7"));
    assert_eq!(
        status_of(&app, &headers, BODY).await,
        (StatusCode::OK, "acme r-7 msg_1 1795000000".to_owned())
    );
}
