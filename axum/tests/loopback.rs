//! The extractor behind a real server on 127.0.0.1: a huge declared body is
//! answered without being read, a chunked body is verified as it streams,
//! and a chunked body one byte over the limit is cut off.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Serves `app()` on an ephemeral 127.0.0.1 port.
async fn serve() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app()).await });
    addr
}

/// Writes `head` and `body_start`, then waits for the status line while
/// holding back the rest of the body. The response can only come if the
/// server did not wait for the body; 1 s is the bound such an early answer must meet.
async fn status_without_sending_the_body(head: String, body_start: &[u8]) -> (u16, Duration) {
    let mut stream = TcpStream::connect(serve().await).await.unwrap();
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body_start).await.unwrap();
    let mut response = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(1), stream.read_exact(&mut response)).await.unwrap().unwrap();
    let status = std::str::from_utf8(&response[9..12]).unwrap().parse().unwrap();
    (status, started.elapsed())
}

fn head(timestamp: u64, signature: &str, framing: &str) -> String {
    format!(
        "POST /hook HTTP/1.1\r\nhost: 127.0.0.1\r\nwebhook-id: msg_big\r\nwebhook-timestamp: {timestamp}\r\n\
         webhook-signature: {signature}\r\n{framing}\r\n"
    )
}

#[tokio::test]
async fn stale_huge_declared_body_is_401_without_reading_it() {
    let signature = sign(CURRENT, "msg_big", NOW - 3600, b"x");
    let (status, elapsed) = status_without_sending_the_body(
        head(NOW - 3600, &signature, "content-length: 104857600\r\n"),
        b"{\"a\":",
    )
    .await;
    assert_eq!(status, 401);
    println!("401 after {elapsed:?}");
}

#[tokio::test]
async fn fresh_huge_declared_body_is_413_without_reading_it() {
    let signature = sign(CURRENT, "msg_big", NOW, b"x");
    let (status, elapsed) =
        status_without_sending_the_body(head(NOW, &signature, "content-length: 104857600\r\n"), b"{\"a\":")
            .await;
    assert_eq!(status, 413);
    println!("413 after {elapsed:?}");
}

/// Sends `body` chunked, `chunk` bytes per chunk, with a flush after each.
async fn send_chunked(signature: &str, body: &[u8], chunk: usize) -> u16 {
    let mut stream = TcpStream::connect(serve().await).await.unwrap();
    stream.write_all(head(NOW, signature, "transfer-encoding: chunked\r\n").as_bytes()).await.unwrap();
    // The server may answer and stop reading before the body ends (413), so
    // a failed write is not a failure: the status decides.
    for part in body.chunks(chunk) {
        let framed = [format!("{:x}\r\n", part.len()).as_bytes(), part, b"\r\n"].concat();
        if stream.write_all(&framed).await.and(stream.flush().await).is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut response)).await.unwrap().unwrap();
    std::str::from_utf8(&response[9..12]).unwrap().parse().unwrap()
}

#[tokio::test]
async fn valid_delivery_in_many_small_chunks_verifies() {
    let body: Vec<u8> = (0..3000).map(|i| b'a' + (i % 26) as u8).collect();
    let signature = sign(CURRENT, "msg_big", NOW, &body);
    assert_eq!(send_chunked(&signature, &body, 7).await, 204);
    assert_eq!(send_chunked(&signature, &body[..2999], 7).await, 401);
}

#[tokio::test]
async fn chunked_body_one_byte_over_the_limit_is_413() {
    let body = vec![b'z'; LIMIT + 1];
    let signature = sign(CURRENT, "msg_big", NOW, &body);
    assert_eq!(send_chunked(&signature, &body, 512).await, 413);
    let exact = vec![b'z'; LIMIT];
    assert_eq!(send_chunked(&sign(CURRENT, "msg_big", NOW, &exact), &exact, 512).await, 204);
}
