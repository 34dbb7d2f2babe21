//! `serve` on 127.0.0.1, as an attacker and an operator would try it: slow
//! headers, a silent connection, a slow body, idle keep-alive, the connection
//! limit, HTTP/2 and the limit on requests in flight, and a shutdown with a
//! request in flight. Limits are set to a second or so; every wait is
//! bounded, and each bound is several times the limit it checks, so a busy
//! machine does not fail the test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use webhook_signature_axum::{Limits, ServeStats, serve_with_stats};

const SHORT: Duration = Duration::from_secs(1);
/// How long a test waits for something the limits make happen after `SHORT`.
const PATIENCE: Duration = Duration::from_secs(8);

fn short_limits() -> Limits {
    Limits::default()
        .with_header_read_timeout(SHORT)
        .with_body_timeout(SHORT)
        .with_idle_timeout(SHORT)
        .with_shutdown_timeout(Duration::from_secs(10))
}

/// Serves `app()` within `limits` until the returned sender fires.
async fn start(limits: Limits) -> (SocketAddr, oneshot::Sender<()>, JoinHandle<std::io::Result<()>>) {
    start_app(app(), limits).await
}

/// Serves `app` within `limits` until the returned sender fires.
async fn start_app(
    app: axum::Router,
    limits: Limits,
) -> (SocketAddr, oneshot::Sender<()>, JoinHandle<std::io::Result<()>>) {
    let (addr, stop, server, _) = start_counted(app, limits).await;
    (addr, stop, server)
}

/// [`start_app`], counting into the returned stats.
async fn start_counted(
    app: axum::Router,
    limits: Limits,
) -> (SocketAddr, oneshot::Sender<()>, JoinHandle<std::io::Result<()>>, ServeStats) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let stats = ServeStats::new();
    let server = tokio::spawn(serve_with_stats(listener, app, limits, stats.clone(), async move {
        let _ = stopped.await;
    }));
    (addr, stop, server, stats)
}

/// Waits (bounded) until `check` holds: gauges fall once a connection's task
/// has noticed its end, a moment after the client sees it.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < PATIENCE, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An HTTP/2 connection to `addr` (prior knowledge, as h2c clients do),
/// sending request bodies of type `B`.
async fn http2<B>(addr: SocketAddr) -> hyper::client::conn::http2::SendRequest<B>
where
    B: hyper::body::Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    sender
}

fn request_head(body_len: usize, keep_alive: bool) -> (String, Vec<u8>) {
    let body = vec![b'x'; body_len];
    let signature = sign(CURRENT, "msg_slow", NOW, &body);
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let head = format!(
        "POST /hook HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: {connection}\r\ncontent-length: {body_len}\r\n\
         webhook-id: msg_slow\r\nwebhook-timestamp: {NOW}\r\nwebhook-signature: {signature}\r\n\r\n"
    );
    (head, body)
}

/// Reads until the server closes the connection (or `PATIENCE` passes): what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut received)).await;
    match read {
        Ok(_) => Some(received), // closed (a reset counts: the server hung up)
        Err(_) => None,
    }
}

fn status(response: &[u8]) -> u16 {
    std::str::from_utf8(&response[9..12]).unwrap().parse().unwrap()
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let (addr, _stop, _server) = start(short_limits()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"POST /hook HTTP/1.1\r\nhost: 127.0.0.1\r\n").await.unwrap();
    let started = Instant::now();
    // One header byte every 200 ms, as a slowloris does, until the server hangs up.
    let trickle = async {
        for _ in 0..100 {
            if stream.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let _ = tokio::time::timeout(PATIENCE, trickle).await;
    assert!(started.elapsed() < PATIENCE, "still open after {PATIENCE:?}");
}

#[tokio::test]
async fn a_silent_connection_is_closed() {
    let (addr, _stop, _server) = start(short_limits()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    assert!(read_until_closed(&mut stream).await.is_some(), "still open after {PATIENCE:?}");
}

#[tokio::test]
async fn a_slow_body_gets_408() {
    let (addr, _stop, _server) = start(short_limits()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (head, _) = request_head(1000, false);
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut response = [0u8; 12];
    tokio::time::timeout(PATIENCE, reader.read_exact(&mut response)).await.unwrap().unwrap();
    assert_eq!(status(&response), 408);
    trickle.abort();
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    // A long header timeout, so only the idle timer can close it.
    let (addr, _stop, _server, stats) =
        start_counted(app(), short_limits().with_header_read_timeout(Duration::from_secs(60))).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (head, body) = request_head(16, true);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let response = read_until_closed(&mut stream).await.expect("closed once idle");
    assert_eq!(status(&response), 204, "answered first, then closed");
    // The operator sees it: one connection accepted, closed by the idle timer.
    eventually("the connection is no longer open", || stats.connections_open() == 0).await;
    assert_eq!((stats.connections_accepted(), stats.connections_expired()), (1, 1));
    assert_eq!((stats.requests_in_flight(), stats.requests_shed()), (0, 0));
}

#[tokio::test]
async fn past_the_limit_connections_wait_unserved() {
    let limits = short_limits().with_max_connections(2).with_header_read_timeout(Duration::from_secs(60));
    let (addr, _stop, _server) = start(limits.with_idle_timeout(Duration::from_secs(60))).await;
    let first = TcpStream::connect(addr).await.unwrap();
    let _second = TcpStream::connect(addr).await.unwrap();
    // The third is in the backlog: connected, but not accepted, so not answered.
    let mut third = TcpStream::connect(addr).await.unwrap();
    let (head, body) = request_head(16, false);
    third.write_all(head.as_bytes()).await.unwrap();
    third.write_all(&body).await.unwrap();
    let mut response = [0u8; 12];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read_exact(&mut response)).await;
    assert!(early.is_err(), "served past the connection limit");
    // One closes: the third is accepted and served in full.
    drop(first);
    tokio::time::timeout(PATIENCE, third.read_exact(&mut response)).await.unwrap().unwrap();
    assert_eq!(status(&response), 204);
}

#[tokio::test]
async fn shutdown_answers_the_request_in_flight_then_returns() {
    let (addr, stop, server) = start(short_limits().with_body_timeout(Duration::from_secs(30))).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (head, body) = request_head(64, true);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..44]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    // The last 20 bytes arrive after the shutdown began.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stream.write_all(&body[44..]).await.unwrap();
    let response = read_until_closed(&mut stream).await.expect("closed after the answer");
    assert_eq!(status(&response), 204);
    let finished = tokio::time::timeout(PATIENCE, server).await.expect("serve returned");
    assert!(finished.unwrap().is_ok());
    // Nobody listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn http2_is_served() {
    let (addr, _stop, _server) = start(short_limits()).await;
    let mut sender = http2(addr).await;
    let body = b"{\"over\":\"h2\"}".to_vec();
    let request = hyper::Request::post(format!("http://{addr}/hook"))
        .header("webhook-id", "msg_h2")
        .header("webhook-timestamp", NOW.to_string())
        .header("webhook-signature", sign(CURRENT, "msg_h2", NOW, &body))
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 204);
}

/// An app whose first request to `/hold` says it arrived, then waits to be
/// released: it holds a slot for as long as the test wants. Later requests
/// answer 204 at once.
fn hold_the_first() -> (axum::Router, oneshot::Receiver<()>, oneshot::Sender<()>) {
    let (entered, arrived) = oneshot::channel::<()>();
    let (release, released) = oneshot::channel::<()>();
    let hold = std::sync::Arc::new(std::sync::Mutex::new(Some((entered, released))));
    let app = axum::Router::new().route(
        "/hold",
        axum::routing::post(move || {
            let first = hold.lock().unwrap().take();
            async move {
                if let Some((entered, released)) = first {
                    let _ = entered.send(());
                    let _ = released.await;
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    (app, arrived, release)
}

fn post_hold(addr: SocketAddr) -> hyper::Request<http_body_util::Empty<bytes::Bytes>> {
    hyper::Request::post(format!("http://{addr}/hold")).body(http_body_util::Empty::new()).unwrap()
}

#[tokio::test]
async fn past_the_request_limit_an_http2_stream_waits_then_gets_503() {
    let (app, arrived, release) = hold_the_first();
    let (addr, _stop, _server, stats) = start_counted(app, short_limits().with_max_requests(1)).await;
    let sender = http2(addr).await;
    let post = || post_hold(addr);
    let first = tokio::spawn(sender.clone().send_request(post()));
    tokio::time::timeout(PATIENCE, arrived).await.expect("the first request arrived").unwrap();
    assert_eq!((stats.requests_in_flight(), stats.connections_open()), (1, 1));

    // A second stream on the same connection finds no slot: it waits the
    // header-read timeout, then gets 503, which a webhook sender retries.
    let started = Instant::now();
    let second = tokio::time::timeout(PATIENCE, sender.clone().send_request(post())).await.unwrap().unwrap();
    assert_eq!(second.status(), 503);
    assert_eq!(second.headers()["retry-after"], "1");
    assert!(started.elapsed() >= SHORT, "it waited for a slot first");
    assert_eq!(stats.requests_shed(), 1, "the operator sees the 503");

    // The first is answered once released, and its slot serves the next.
    release.send(()).unwrap();
    let first = tokio::time::timeout(PATIENCE, first).await.unwrap().unwrap().unwrap();
    assert_eq!(first.status(), 204);
    let third = tokio::time::timeout(PATIENCE, sender.clone().send_request(post())).await.unwrap().unwrap();
    assert_eq!(third.status(), 204);
    eventually("no request in flight", || stats.requests_in_flight() == 0).await;
    assert_eq!((stats.requests_shed(), stats.connections_accepted()), (1, 1));
}

#[tokio::test]
async fn a_limit_too_large_to_count_serves_instead_of_panicking() {
    let limits = short_limits().with_max_connections(usize::MAX).with_max_requests(usize::MAX);
    let (addr, _stop, _server) = start(limits).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (head, body) = request_head(16, false);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let response = read_until_closed(&mut stream).await.expect("answered");
    assert_eq!(status(&response), 204);
}

#[tokio::test]
async fn a_stream_cancelled_while_it_waits_for_a_slot_takes_none() {
    // Waiting for a slot lasts longer than the test's patience here, so a
    // slot kept by the cancelled stream would leave the last request unserved.
    let limits = short_limits().with_max_requests(1).with_header_read_timeout(Duration::from_secs(60));
    let (app, arrived, release) = hold_the_first();
    let (addr, _stop, _server) = start_app(app, limits).await;
    let sender = http2(addr).await;
    let first = tokio::spawn(sender.clone().send_request(post_hold(addr)));
    tokio::time::timeout(PATIENCE, arrived).await.expect("the first request arrived").unwrap();

    // A second stream waits for the slot; its client gives up (RST_STREAM).
    let waiting = tokio::spawn(sender.clone().send_request(post_hold(addr)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    waiting.abort();
    assert!(waiting.await.unwrap_err().is_cancelled());

    release.send(()).unwrap();
    let first = tokio::time::timeout(PATIENCE, first).await.unwrap().unwrap().unwrap();
    assert_eq!(first.status(), 204);
    let next = tokio::time::timeout(PATIENCE, sender.clone().send_request(post_hold(addr)))
        .await
        .expect("the cancelled stream left the slot free")
        .unwrap();
    assert_eq!(next.status(), 204);
}
