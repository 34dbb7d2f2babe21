//! Criterion suite: our verify, streaming verify, sign and key setup against
//! the SHA-256 and pre-keyed HMAC floors, rejection costs, and the
//! constant-time comparison crates. Run: `cargo bench --bench verify`.

// Benchmark set-up: a bad fixture should panic loudly, and sizes are small.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use core::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use webhook_signature::{Headers, Timestamp, Webhook};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const KEY: &[u8] = b"1\xf2\x90\xf6\xbf\x0c\x18\x8a\xabO\x05\x8f\x0f\xc2\x08,\xf6Hb\xd6-\xa2\xd4\xb0";
const ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"; // ~30 characters, as senders use
const TIMESTAMP: &str = "1700000000";
const NOW: Timestamp = Timestamp::from_unix_secs(1_700_000_000);
const SIZES: [usize; 5] = [64, 512, 4 << 10, 64 << 10, 1 << 20];
const STREAM_CHUNK: usize = 64 << 10;

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"{\"type\":\"video.generated\"}"[i % 26]).collect()
}

struct Delivery {
    payload: Vec<u8>,
    single: String,
    rotation: String,
}

impl Delivery {
    fn new(webhook: &Webhook, len: usize) -> Self {
        let payload = payload(len);
        let single = webhook.sign(ID, NOW, &payload).unwrap().to_string();
        let others: Vec<String> = [b"old key 1".as_slice(), b"old key 2"]
            .iter()
            .map(|key| Webhook::from_key(key).unwrap().sign(ID, NOW, &payload).unwrap().to_string())
            .collect();
        let rotation = format!("{} {} {single}", others[0], others[1]);
        Self { payload, single, rotation }
    }

    fn headers<'a>(&self, signature: &'a str) -> Headers<'a> {
        Headers { id: ID, timestamp: TIMESTAMP, signature }
    }
}

fn verify(c: &mut Criterion) {
    let webhook = Webhook::new(SECRET).unwrap();
    let prekeyed = Hmac::<Sha256>::new_from_slice(KEY).unwrap();
    let mut group = c.benchmark_group("verify");
    for len in SIZES {
        let delivery = Delivery::new(&webhook, len);
        let headers = delivery.headers(&delivery.single);
        let content = [format!("{ID}.{TIMESTAMP}.").as_bytes(), &delivery.payload].concat();
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("ours", len), &delivery, |b, d| {
            b.iter(|| webhook.verify(black_box(&headers), black_box(&d.payload), NOW))
        });
        group.bench_with_input(BenchmarkId::new("ours_rotation_3", len), &delivery, |b, d| {
            let headers = d.headers(&d.rotation);
            b.iter(|| webhook.verify(black_box(&headers), black_box(&d.payload), NOW))
        });
        group.bench_with_input(BenchmarkId::new("ours_streaming", len), &delivery, |b, d| {
            b.iter(|| {
                let mut verification = webhook.begin(black_box(&headers), NOW)?;
                for chunk in d.payload.chunks(STREAM_CHUNK) {
                    verification.update(black_box(chunk));
                }
                verification.finish()
            })
        });
        group.bench_with_input(BenchmarkId::new("floor_sha256", len), &content, |b, content| {
            b.iter(|| Sha256::digest(black_box(content)))
        });
        group.bench_with_input(BenchmarkId::new("floor_hmac_prekeyed", len), &content, |b, content| {
            b.iter(|| {
                let mut mac = prekeyed.clone();
                mac.update(black_box(content));
                mac.finalize().into_bytes()
            })
        });
    }
    group.finish();
}

fn sign(c: &mut Criterion) {
    let webhook = Webhook::new(SECRET).unwrap();
    let mut group = c.benchmark_group("sign");
    for len in SIZES {
        let payload = payload(len);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("ours", len), &payload, |b, p| {
            b.iter(|| webhook.sign(black_box(ID), NOW, black_box(p)))
        });
    }
    group.finish();
    c.bench_function("new/whsec", |b| b.iter(|| Webhook::new(black_box(SECRET))));
}

fn rejections(c: &mut Criterion) {
    let webhook = Webhook::new(SECRET).unwrap();
    let delivery = Delivery::new(&webhook, 64 << 10);
    let stale = Timestamp::from_unix_secs(1_700_001_000);
    let wrong = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let mut group = c.benchmark_group("reject_64KiB");
    let cases = [
        ("stale_timestamp", delivery.headers(&delivery.single), NOW.max(stale)),
        ("malformed_timestamp", Headers { timestamp: "17e8", ..delivery.headers(&delivery.single) }, NOW),
        ("no_supported_signature", delivery.headers("v1a,abc v2,def"), NOW),
        ("wrong_signature", delivery.headers(wrong), NOW),
    ];
    for (name, headers, now) in cases {
        group.bench_function(name, |b| {
            b.iter(|| webhook.verify(black_box(&headers), black_box(&delivery.payload), now))
        });
    }
    group.finish();
}

fn compare(c: &mut Criterion) {
    use subtle::ConstantTimeEq;
    let expected = [b'A'; 44];
    let mut candidate = expected;
    candidate[43] = b'B';
    let mut group = c.benchmark_group("compare_44B");
    group.bench_function("subtle_ct_eq", |b| {
        b.iter(|| bool::from(black_box(&candidate[..]).ct_eq(black_box(&expected[..]))))
    });
    group.bench_function("constant_time_eq", |b| {
        b.iter(|| constant_time_eq::constant_time_eq_n(black_box(&candidate), black_box(&expected)))
    });
    group.finish();
}

criterion_group!(benches, verify, sign, rejections, compare);
criterion_main!(benches);
