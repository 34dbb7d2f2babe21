//! Our `verify` beside the `standardwebhooks` and `svix` crates' on the same
//! deliveries, in one run. Both peers read the system clock, so every
//! delivery is signed with the current time just before it is measured, and
//! every call is checked to succeed (a failing peer would look fast).
//!
//! Run: `cargo bench -p webhook-signature-peers` (or `benches/report.sh`).
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue};
use webhook_signature::{Headers, Timestamp, Webhook};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
const SIZES: [usize; 5] = [64, 512, 4 << 10, 64 << 10, 1 << 20];

/// A delivery signed now: its body, timestamp text and signature header.
struct Delivery {
    body: Vec<u8>,
    timestamp: String,
    signature: String,
}

impl Delivery {
    fn now(webhook: &Webhook, len: usize) -> Self {
        let body: Vec<u8> = (0..len).map(|i| b"{\"type\":\"video.generated\"}"[i % 26]).collect();
        let now = Timestamp::now();
        let signature = webhook.sign(ID, now, &body).expect("sign").to_string();
        Self { body, timestamp: now.to_string(), signature }
    }

    fn header_map(&self, prefix: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in [("id", ID), ("timestamp", &self.timestamp), ("signature", &self.signature)] {
            let name = http::HeaderName::try_from(format!("{prefix}-{name}")).expect("header name");
            map.insert(name, HeaderValue::from_str(value).expect("header value"));
        }
        map
    }
}

fn peers(c: &mut Criterion) {
    let ours = Webhook::new(SECRET).expect("secret");
    let standard = standardwebhooks::Webhook::new(SECRET).expect("secret");
    let svix = svix::webhooks::Webhook::new(SECRET).expect("secret");
    let mut group = c.benchmark_group("peers");
    for len in SIZES {
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(BenchmarkId::new("ours", len), |b| {
            let d = Delivery::now(&ours, len);
            let headers = Headers { id: ID, timestamp: &d.timestamp, signature: &d.signature };
            b.iter(|| ours.verify(black_box(&headers), black_box(&d.body), Timestamp::now()).expect("ours"))
        });
        group.bench_function(BenchmarkId::new("standardwebhooks", len), |b| {
            let d = Delivery::now(&ours, len);
            let map = d.header_map("webhook");
            b.iter(|| standard.verify(black_box(&d.body), black_box(&map)).expect("standardwebhooks"))
        });
        group.bench_function(BenchmarkId::new("svix", len), |b| {
            let d = Delivery::now(&ours, len);
            let map = d.header_map("svix");
            b.iter(|| svix.verify(black_box(&d.body), black_box(&map)).expect("svix"))
        });
    }
    group.finish();
}

criterion_group!(benches, peers);
criterion_main!(benches);
