//! The worst inputs an attacker controls, and what they cost:
//! - a 64 KiB `webhook-signature` of `v1,` entries (1,365 of them);
//! - a 64 KiB header of `v1a,` entries checked with an Ed25519 key (only the
//!   first `MAX_V1A_CANDIDATES` are checked);
//! - a secret that decodes to 4 KiB (`MAX_KEY_LEN`);
//! - a 1 MiB body with a stale timestamp (refused before hashing).
//!
//! `cargo bench --all-features --bench hostile`

// Benchmark set-up: a bad fixture should panic loudly.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use core::hint::black_box;

use base64ct::{Base64, Encoding};
use criterion::{Criterion, criterion_group, criterion_main};
use webhook_signature::{Headers, Timestamp, Webhook};

const ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
const TIMESTAMP: &str = "1700000000";
const NOW: Timestamp = Timestamp::from_unix_secs(1_700_000_000);
const HEADER_LIMIT: usize = 64 * 1024;

/// Entries `prefix` + base64 of `len` bytes, space-separated, filling 64 KiB.
fn filled_header(prefix: &str, len: usize) -> (String, usize) {
    let entry = format!("{prefix}{}", Base64::encode_string(&vec![0xa5; len]));
    let count = (HEADER_LIMIT + 1) / (entry.len() + 1);
    (vec![entry; count].join(" "), count)
}

fn hostile(c: &mut Criterion) {
    let mut group = c.benchmark_group("hostile");
    let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let body = [b'x'; 512];

    let (v1, count) = filled_header("v1,", 32);
    println!("v1 header: {} bytes, {count} entries", v1.len());
    let headers = Headers { id: ID, timestamp: TIMESTAMP, signature: &v1 };
    group.bench_function("v1 header 64 KiB, 512 B body", |b| {
        b.iter(|| webhook.verify(black_box(&headers), &body, NOW))
    });

    #[cfg(feature = "ed25519")]
    {
        let secret = Webhook::new(&format!("whsk_{}", Base64::encode_string(&[7u8; 32]))).unwrap();
        let public =
            Webhook::new(&format!("whpk_{}", Base64::encode_string(&secret.public_key().unwrap()))).unwrap();
        // Well-formed signatures of another body: each must be checked in full.
        let decoy = secret.sign(ID, NOW, b"another body").unwrap().to_string();
        let count = (HEADER_LIMIT + 1) / (decoy.len() + 1);
        let v1a = vec![decoy; count].join(" ");
        println!("v1a header: {} bytes, {count} entries", v1a.len());
        let headers = Headers { id: ID, timestamp: TIMESTAMP, signature: &v1a };
        group.bench_function("v1a header 64 KiB, 512 B body", |b| {
            b.iter(|| public.verify(black_box(&headers), &body, NOW))
        });
    }

    let big_secret = format!("whsec_{}", Base64::encode_string(&vec![0x42; webhook_signature::MAX_KEY_LEN]));
    group.bench_function("secret of 4 KiB", |b| b.iter(|| Webhook::new(black_box(&big_secret))));

    let big_body = vec![b'x'; 1 << 20];
    let signature = webhook.sign(ID, NOW, &big_body).unwrap().to_string();
    let headers = Headers { id: ID, timestamp: TIMESTAMP, signature: &signature };
    let stale = Timestamp::from_unix_secs(1_700_000_000 + 3600);
    group.bench_function("1 MiB body, stale timestamp", |b| {
        b.iter(|| webhook.verify(black_box(&headers), black_box(&big_body), stale))
    });
    group.finish();
}

criterion_group!(benches, hostile);
criterion_main!(benches);
