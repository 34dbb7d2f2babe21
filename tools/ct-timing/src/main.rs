//! A dudect-style timing test of the signature comparison (Reparaz, Balasch,
//! Verbauwhede, "Dude, is my code constant time?", 2017).
//!
//! Two classes of wrong signatures, which differ from the right one in the
//! first byte or in the last byte of the decoded tag, are verified in random
//! interleaved order; a Welch t-test compares the two timing distributions.
//! |t| < 4.5 is the usual pass mark. Each sample times `Verification::finish`,
//! which finalises the HMAC, decodes the candidate and compares it.
//!
//! Run: `cargo run --release -p webhook-signature-ct-timing [SAMPLES]` (default 2,000,000).

// A measurement harness: statistics on f64 and indexes into its own arrays.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use core::hint::black_box;
use std::time::Instant;

use base64ct::{Base64, Encoding};
use webhook_signature::{Headers, Timestamp, Webhook};

const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TIMESTAMP: &str = "1614265330";
const PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let samples: usize = std::env::args().nth(1).map(|n| n.parse()).transpose()?.unwrap_or(2_000_000);
    let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
    let now = Timestamp::from_unix_secs(1_614_265_330);
    let right = webhook.sign(ID, now, PAYLOAD)?;
    let tag = Base64::decode_vec(&right.as_str()[3..]).map_err(|_| "decode")?;
    let wrong = |index: usize| {
        let mut tag = tag.clone();
        tag[index] ^= 0x01;
        format!("v1,{}", Base64::encode_string(&tag))
    };
    let classes = [wrong(0), wrong(tag.len() - 1)];

    let mut times: [Vec<f64>; 2] = [Vec::with_capacity(samples), Vec::with_capacity(samples)];
    let mut state = 0x9e37_79b9_7f4a_7c15_u64; // xorshift: the class order must not be periodic
    for _ in 0..samples {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let class = (state & 1) as usize;
        let headers = Headers { id: ID, timestamp: TIMESTAMP, signature: &classes[class] };
        let mut verification = webhook.begin(&headers, now)?;
        verification.update(PAYLOAD);
        let start = Instant::now();
        let result = black_box(verification).finish();
        let elapsed = start.elapsed().as_nanos() as f64;
        assert!(result.is_err());
        times[class].push(elapsed);
    }

    // As dudect does, also test with the slowest samples cropped (interrupts
    // and migrations add a long tail that only adds noise).
    let mut all: Vec<f64> = times.iter().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    println!("samples: {} (first byte differs) + {} (last byte differs)", times[0].len(), times[1].len());
    let mut worst: f64 = 0.0;
    for percentile in [1.0, 0.99, 0.9] {
        let cutoff = all[((all.len() - 1) as f64 * percentile) as usize];
        let t = welch_t(&times[0], &times[1], cutoff);
        worst = worst.max(t.abs());
        println!("crop at p{:<3} ({cutoff:>5} ns): t = {t:+.3}", (percentile * 100.0) as u32);
    }
    println!("max |t| = {worst:.3}: {}", if worst < 4.5 { "pass (< 4.5)" } else { "FAIL (>= 4.5)" });
    if worst >= 4.5 {
        std::process::exit(1);
    }
    Ok(())
}

/// Welch's t statistic of the two samples, over values at most `cutoff`.
fn welch_t(a: &[f64], b: &[f64], cutoff: f64) -> f64 {
    let stats = |xs: &[f64]| {
        let kept: Vec<f64> = xs.iter().copied().filter(|&x| x <= cutoff).collect();
        let n = kept.len() as f64;
        let mean = kept.iter().sum::<f64>() / n;
        let variance = kept.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (n, mean, variance)
    };
    let ((na, ma, va), (nb, mb, vb)) = (stats(a), stats(b));
    (ma - mb) / (va / na + vb / nb).sqrt()
}
