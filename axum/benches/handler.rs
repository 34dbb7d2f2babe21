//! The server-side cost of the extractor without the network: requests built
//! in memory go through the router with `tower::ServiceExt::oneshot`, to
//! `VerifiedWebhook` and to a plain `Bytes` handler, in alternating batches.
//! Loopback throughput (`--bench throughput`) is what the cost target is
//! judged by; this is what shows where the extractor's time goes.
//!
//! `cargo bench -p webhook-signature-axum --bench handler`
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use std::hint::black_box;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use webhook_signature::{Timestamp, Webhook};
use webhook_signature_axum::{StaticKeys, VerifiedWebhook, WebhookConfig};

use common::SECRET;

const BATCH: usize = 2_000;
const ROUNDS: usize = 41;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let app = common::router();
    let webhook = Webhook::new(SECRET).unwrap();
    let body = Bytes::from(vec![b'x'; 512]);
    let now = Timestamp::now();
    let requests = |path: &str, round: usize| -> Vec<Request<Body>> {
        (0..BATCH)
            .map(|i| {
                let id = format!("msg_{round}_{i}");
                let signature = webhook.sign(&id, now, &body).unwrap().to_string();
                Request::post(path)
                    .header("content-type", "application/json")
                    .header("content-length", body.len())
                    .header("webhook-id", id)
                    .header("webhook-timestamp", now.to_string())
                    .header("webhook-signature", signature)
                    .body(Body::from(body.clone()))
                    .unwrap()
            })
            .collect()
    };
    {
        use axum::extract::FromRequest;
        let config = WebhookConfig::new(StaticKeys::new(vec![Webhook::new(SECRET).unwrap()]).unwrap());
        let request = requests("/verified", 999).pop().unwrap();
        let future =
            <VerifiedWebhook as FromRequest<WebhookConfig<StaticKeys>>>::from_request(request, &config);
        println!("extractor future: {} bytes", std::mem::size_of_val(&future));
        let request = requests("/plain", 999).pop().unwrap();
        let future = <Bytes as FromRequest<()>>::from_request(request, &());
        println!("Bytes future: {} bytes", std::mem::size_of_val(&future));
    }
    let mut samples = Vec::new();
    for round in 0..ROUNDS {
        let time = async |path: &str| {
            let batch = requests(path, round);
            let started = Instant::now();
            for request in batch {
                let response = app.clone().oneshot(request).await.unwrap();
                assert_eq!(response.status(), StatusCode::NO_CONTENT);
                black_box(response);
            }
            started.elapsed().as_nanos() as f64 / BATCH as f64
        };
        let plain = time("/plain").await;
        let verified = time("/verified").await;
        samples.push((plain, verified));
    }
    let median = |f: fn(&(f64, f64)) -> f64| {
        let mut values: Vec<f64> = samples.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    println!(
        "per request: plain {:.0} ns, extractor {:.0} ns, extractor - plain {:.0} ns (medians of {ROUNDS} alternating batches)",
        median(|s| s.0),
        median(|s| s.1),
        median(|s| s.1 - s.0)
    );
}

#[allow(dead_code)]
fn sizes_tmp() {}
