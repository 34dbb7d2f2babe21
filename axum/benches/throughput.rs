//! Requests per second through `VerifiedWebhook` against a plain `Bytes`
//! handler on the same router, over loopback: signed 512-byte deliveries, each
//! with a unique `webhook-id`, from 32 keep-alive connections. Runs alternate
//! so machine noise hits both, in pairs whose order flips each time (plain
//! first, then verified first) so neither side always runs warmer; the result
//! is the median of the per-pair ratios. Single runs spread by ±10% here, so
//! many short pairs beat a few long ones. Bounded: 51 pairs of 6,000 requests
//! (about 8 s).
//!
//! `cargo bench -p webhook-signature-axum --bench throughput`
#![allow(clippy::indexing_slicing)] // a bench: a bad index is a crashed run, not a served request

mod common;

use std::net::SocketAddr;
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use webhook_signature::{Timestamp, Webhook};

use common::SECRET;

const CONNECTIONS: usize = 32;
const REQUESTS: usize = 6_000;
const PAIRS: usize = 51;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let app = common::router();
    // The crate's own listener, as a server on the open internet would use:
    // its backlog holds a burst of connections instead of dropping SYNs.
    let listener = webhook_signature_axum::listen("127.0.0.1:0", webhook_signature_axum::DEFAULT_BACKLOG)
        .await
        .expect("listen");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let webhook = Webhook::new(SECRET).expect("secret");
    let body = vec![b'x'; 512];
    let mut ratios = Vec::new();
    println!("| pair | plain (req/s) | extractor (req/s) | extractor / plain |");
    println!("|---|---|---|---|");
    for pair in 0..PAIRS {
        let requests = |path: &str| -> Vec<Vec<u8>> {
            let now = Timestamp::now();
            (0..REQUESTS)
                .map(|i| {
                    let id = format!("msg_{pair}_{path}_{i}");
                    let signature = webhook.sign(&id, now, &body).expect("sign");
                    let head = format!(
                        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nwebhook-id: {id}\r\nwebhook-timestamp: {now}\r\n\
                         webhook-signature: {signature}\r\n\r\n",
                        body.len()
                    );
                    [head.as_bytes(), &body].concat()
                })
                .collect()
        };
        let (plain, verified) = if pair % 2 == 0 {
            let plain = throughput(addr, requests("/plain")).await;
            (plain, throughput(addr, requests("/verified")).await)
        } else {
            let verified = throughput(addr, requests("/verified")).await;
            (throughput(addr, requests("/plain")).await, verified)
        };
        ratios.push(verified / plain);
        println!("| {} | {plain:.0} | {verified:.0} | {:.3} |", pair + 1, verified / plain);
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!("\nmedian extractor / plain throughput: {median:.3} (cost {:.1}%)", (1.0 - median) * 100.0);
}

/// Sends every request over `CONNECTIONS` keep-alive connections; requests per second.
async fn throughput(addr: SocketAddr, requests: Vec<Vec<u8>>) -> f64 {
    let count = requests.len();
    let mut shares: Vec<Vec<Vec<u8>>> = (0..CONNECTIONS).map(|_| Vec::new()).collect();
    for (i, request) in requests.into_iter().enumerate() {
        shares[i % CONNECTIONS].push(request);
    }
    let started = Instant::now();
    let tasks: Vec<_> = shares.into_iter().map(|share| tokio::spawn(connection(addr, share))).collect();
    for task in tasks {
        task.await.expect("connection task");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

async fn connection(addr: SocketAddr, requests: Vec<Vec<u8>>) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut stream = BufReader::new(stream);
    let mut line = String::new();
    for request in requests {
        stream.get_mut().write_all(&request).await.expect("write");
        // 204 has no body: read the status line and headers up to the blank line.
        line.clear();
        stream.read_line(&mut line).await.expect("status");
        assert!(line.starts_with("HTTP/1.1 204"), "{line}");
        loop {
            line.clear();
            stream.read_line(&mut line).await.expect("header");
            if line == "\r\n" {
                break;
            }
        }
    }
}
