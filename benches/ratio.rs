//! Verification against the bare HMAC it cannot avoid, as ratios measured in
//! one process: batches alternate (ours, yardstick, ours, …) so machine noise
//! hits both, and each row is the median of the per-pair ratios. The
//! yardstick is a pre-keyed `hmac::Hmac<Sha256>`, cloned, fed `{id}.{ts}.`
//! and the body, and finalized. The floor is the number of SHA-256 block
//! compressions the message needs times the measured cost of one.
//!
//! `cargo bench --bench ratio` (about a minute).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::std_instead_of_core
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use sha2::block_api::compress256;
use webhook_signature::{Headers, Timestamp, Webhook};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: &str = "1614265330";
const PAIRS: usize = 21;
const BATCH: Duration = Duration::from_millis(4);

/// Nanoseconds per call of `f`, over a batch of `n` calls.
fn time(n: u64, mut f: impl FnMut()) -> f64 {
    let started = Instant::now();
    for _ in 0..n {
        f();
    }
    started.elapsed().as_nanos() as f64 / n as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Median ns of `ours`, of `yardstick`, and median of the pairwise ratios.
fn alternate(mut ours: impl FnMut(), mut yardstick: impl FnMut()) -> (f64, f64, f64) {
    let estimate = time(200, &mut yardstick).max(1.0);
    let n = ((BATCH.as_nanos() as f64 / estimate) as u64).max(1);
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..PAIRS {
        let x = time(n, &mut ours);
        let y = time(n, &mut yardstick);
        a.push(x);
        b.push(y);
        ratios.push(x / y);
    }
    (median(a), median(b), median(ratios))
}

fn compress_ns() -> f64 {
    let blocks = vec![[0x5au8; 64]; 1024];
    let mut state = [0u32; 8];
    median(
        (0..15)
            .map(|_| time(20, || compress256(black_box(&mut state), black_box(&blocks))) / 1024.0)
            .collect(),
    )
}

fn main() {
    let webhook = Webhook::new(SECRET).unwrap();
    let key =
        <base64ct::Base64 as base64ct::Encoding>::decode_vec("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    let per_block = compress_ns();
    let now = Timestamp::from_unix_secs(1614265330);
    println!("one compress256 call: {per_block:.1} ns\n");
    println!(
        "| body | ours | pre-keyed HMAC | ours / HMAC | streaming / one-shot | sign / HMAC | floor | ours / floor |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for size in [64usize, 512, 4096, 65536, 1 << 20] {
        let body = vec![b'x'; size];
        let signature = webhook.sign(ID, now, &body).unwrap().to_string();
        let headers = Headers { id: ID, timestamp: TS, signature: &signature };
        let hmac = || {
            let mut mac = keyed.clone();
            mac.update(format_prefix().as_bytes());
            mac.update(black_box(&body));
            black_box(mac.finalize());
        };
        let (ours, yard, ratio) =
            alternate(|| webhook.verify(black_box(&headers), black_box(&body), now).unwrap(), hmac);
        let (_, _, streaming) = alternate(
            || {
                let mut verification = webhook.begin(black_box(&headers), now).unwrap();
                for chunk in body.chunks(16 * 1024) {
                    verification.update(chunk);
                }
                verification.finish().unwrap();
            },
            || webhook.verify(black_box(&headers), black_box(&body), now).unwrap(),
        );
        let (_, _, sign) = alternate(|| _ = black_box(webhook.sign(ID, now, black_box(&body))), hmac);
        // Inner: prefix, body, 9 bytes of padding and length, in 64-byte blocks; outer: one.
        let blocks = (ID.len() + TS.len() + 2 + size + 9).div_ceil(64) + 1;
        let floor = blocks as f64 * per_block;
        println!(
            "| {} | {} | {} | {ratio:.3}× | {streaming:.3}× | {sign:.3}× | {blocks} × {per_block:.1} ns = {} | {:.2}× |",
            label(size),
            ns(ours),
            ns(yard),
            ns(floor),
            ours / floor
        );
    }
}

fn format_prefix() -> &'static str {
    "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330."
}

fn label(size: usize) -> String {
    match size {
        s if s >= 1 << 20 => format!("{} MiB", s >> 20),
        s if s >= 1024 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

fn ns(value: f64) -> String {
    if value >= 10_000.0 { format!("{:.1} µs", value / 1000.0) } else { format!("{value:.0} ns") }
}
