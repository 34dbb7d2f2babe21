//! Verification against the bare HMAC it cannot avoid, as ratios measured in
//! one process. Batches alternate (ours, yardstick), and every comparison of
//! the table takes one pair per round, round after round, so each ratio is
//! sampled across the whole run: this machine's noise comes in phases of
//! seconds that slow the load- and store-bound code more than the SHA-NI
//! rounds, and a comparison timed in one stretch could fall in one phase.
//! Each cell is the median of its per-pair ratios. The yardstick is a
//! pre-keyed `hmac::Hmac<Sha256>`, cloned, fed `{id}.{ts}.` and the body, and
//! finalized (what any verifier must at least do); the last two columns use
//! the HMAC's best case instead, the content joined in one buffer beforehand.
//! The floor is the number of SHA-256 block compressions the message needs
//! times the measured cost of one.
//!
//! `cargo bench --bench ratio` (about 16 s).
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
const PREFIX: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.";
const SIZES: [usize; 5] = [64, 512, 4096, 65536, 1 << 20];
const ROUNDS: usize = 301;
const BATCH: Duration = Duration::from_millis(1);

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

/// One batch of a side of a comparison: ns per call over `n` calls.
type Side<'a> = Box<dyn FnMut(u64) -> f64 + 'a>;

fn side<'a>(mut f: impl FnMut() + 'a) -> Side<'a> {
    Box::new(move |n| time(n, &mut f))
}

/// Two sides timed in alternating batches, with their per-pair samples.
struct Comparison<'a> {
    ours: Side<'a>,
    yardstick: Side<'a>,
    n: u64,
    times: Vec<(f64, f64)>,
}

impl<'a> Comparison<'a> {
    fn new(mut ours: Side<'a>, yardstick: Side<'a>) -> Self {
        let estimate = ours(50).max(1.0);
        let n = ((BATCH.as_nanos() as f64 / estimate) as u64).max(1);
        Self { ours, yardstick, n, times: Vec::new() }
    }

    fn pair(&mut self) {
        let ours = (self.ours)(self.n);
        let yardstick = (self.yardstick)(self.n);
        self.times.push((ours, yardstick));
    }

    /// Median ns of ours, of the yardstick, and the median of the ratios.
    fn result(&self) -> (f64, f64, f64) {
        let pick = |f: fn(&(f64, f64)) -> f64| median(self.times.iter().map(f).collect());
        (pick(|t| t.0), pick(|t| t.1), pick(|t| t.0 / t.1))
    }
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
    let webhook = &Webhook::new(SECRET).unwrap();
    let key =
        <base64ct::Base64 as base64ct::Encoding>::decode_vec("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let keyed = &<Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    let now = Timestamp::from_unix_secs(1614265330);
    let bodies: Vec<Vec<u8>> = SIZES.iter().map(|&size| vec![b'x'; size]).collect();
    let signatures: Vec<String> =
        bodies.iter().map(|body| webhook.sign(ID, now, body).unwrap().to_string()).collect();

    // Per size: ours / HMAC, streaming / one-shot, sign / HMAC, ours / HMAC over joined content.
    let mut table: Vec<[Comparison<'_>; 4]> = Vec::new();
    for (body, signature) in bodies.iter().zip(&signatures) {
        let headers = Headers { id: ID, timestamp: TS, signature };
        let verify = move || webhook.verify(black_box(&headers), black_box(body), now).unwrap();
        let hmac = move || {
            let mut mac = keyed.clone();
            mac.update(PREFIX.as_bytes());
            mac.update(black_box(body));
            black_box(mac.finalize());
        };
        let streaming = move || {
            let mut verification = webhook.begin(black_box(&headers), now).unwrap();
            for chunk in body.chunks(16 * 1024) {
                verification.update(chunk);
            }
            verification.finish().unwrap();
        };
        let sign = move || _ = black_box(webhook.sign(ID, now, black_box(body)));
        // The HMAC's best case, for reference: the content already joined in
        // one buffer, one update. A verifier gets the prefix and the body
        // apart, and could only join them by copying the body.
        let joined: &'static [u8] = [PREFIX.as_bytes(), body].concat().leak();
        let hmac_joined = move || {
            let mut mac = keyed.clone();
            mac.update(black_box(joined));
            black_box(mac.finalize());
        };
        table.push([
            Comparison::new(side(verify), side(hmac)),
            Comparison::new(side(streaming), side(verify)),
            Comparison::new(side(sign), side(hmac)),
            Comparison::new(side(verify), side(hmac_joined)),
        ]);
    }
    for _ in 0..ROUNDS {
        for comparison in table.iter_mut().flatten() {
            comparison.pair();
        }
    }

    let per_block = compress_ns();
    println!("one compress256 call: {per_block:.1} ns; {ROUNDS} rounds of alternating pairs\n");
    println!(
        "| body | ours | pre-keyed HMAC | ours / HMAC | streaming / one-shot | sign / HMAC | floor | ours / floor | HMAC, joined content, one update | ours / that |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (size, [verify, streaming, sign, joined]) in SIZES.into_iter().zip(&table) {
        let (ours, yard, ratio) = verify.result();
        let streaming = streaming.result().2;
        let sign = sign.result().2;
        let (_, joined, joined_ratio) = joined.result();
        // Inner: prefix, body, 9 bytes of padding and length, in 64-byte blocks; outer: one.
        let blocks = (PREFIX.len() + size + 9).div_ceil(64) + 1;
        let floor = blocks as f64 * per_block;
        println!(
            "| {} | {} | {} | {ratio:.3}× | {streaming:.3}× | {sign:.3}× | {blocks} × {per_block:.1} ns = {} | {:.2}× | {} | {joined_ratio:.3}× |",
            label(size),
            ns(ours),
            ns(yard),
            ns(floor),
            ours / floor,
            ns(joined),
        );
    }
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
