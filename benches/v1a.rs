//! Criterion suite for the `v1a` (Ed25519) scheme: our streamed strict
//! verification against ed25519-dalek's `verify_strict` on the same content,
//! in the same run. Run: `cargo bench --features ed25519 --bench v1a`.

// Benchmark set-up: a bad fixture should panic loudly.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use core::hint::black_box;

use base64ct::{Base64, Encoding};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signature, SigningKey};
use webhook_signature::{Headers, Timestamp, Webhook};

const ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
const TIMESTAMP: &str = "1700000000";
const NOW: Timestamp = Timestamp::from_unix_secs(1_700_000_000);
const SIZES: [usize; 5] = [64, 512, 4 << 10, 64 << 10, 1 << 20];

fn v1a(c: &mut Criterion) {
    let seed = [7u8; 32];
    let secret = Webhook::new(&format!("whsk_{}", Base64::encode_string(&seed))).unwrap();
    let public =
        Webhook::new(&format!("whpk_{}", Base64::encode_string(&secret.public_key().unwrap()))).unwrap();
    let dalek = SigningKey::from_bytes(&seed).verifying_key();
    let mut group = c.benchmark_group("v1a_verify");
    for len in SIZES {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let signature = secret.sign(ID, NOW, &payload).unwrap();
        let headers = Headers { id: ID, timestamp: TIMESTAMP, signature: signature.as_str() };
        let content = [format!("{ID}.{TIMESTAMP}.").as_bytes(), &payload].concat();
        let raw: [u8; 64] = Base64::decode_vec(&signature.as_str()[4..]).unwrap().try_into().unwrap();
        let raw = Signature::from_bytes(&raw);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("ours", len), &payload, |b, p| {
            b.iter(|| public.verify(black_box(&headers), black_box(p), NOW))
        });
        group.bench_with_input(BenchmarkId::new("dalek_verify_strict", len), &content, |b, content| {
            b.iter(|| dalek.verify_strict(black_box(content), black_box(&raw)))
        });
        group.bench_with_input(BenchmarkId::new("ours_sign", len), &payload, |b, p| {
            b.iter(|| secret.sign(black_box(ID), NOW, black_box(p)))
        });
    }
    group.finish();
}

criterion_group!(benches, v1a);
criterion_main!(benches);
