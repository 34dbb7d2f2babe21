//! ctgrind (Adam Langley's trick, as in rustls' pki-types): mark the secret
//! undefined for valgrind's memcheck, run the code, and let memcheck report
//! every branch or memory index that depends on it.
//!
//! Here the HMAC key is the secret: memcheck must report nothing while it is
//! set up, while the signed content is hashed, while the tag is compared
//! with every candidate, and while a signature's tag is base64-encoded. Only the final accept / reject decision is
//! declassified. Run with `scripts/ctgrind.sh`; it fails on any report.
//!
//! Not covered: the base64 decoding of a `whsec_` secret text, where
//! base64ct's validity check and the padding trim necessarily branch on the
//! text (once, at key setup, never per delivery).

use std::hint::black_box;

use crabgrind::memcheck::{MemState, mark_mem};
use webhook_signature::{Headers, Timestamp, Webhook};

/// Marks `bytes` as undefined: secret, as far as memcheck is concerned.
fn secret(bytes: &mut [u8]) {
    // crabgrind 0.1.9 misreads memcheck's reply to this request as a failure,
    // so its result says nothing; `main` checks that valgrind is running.
    let _ = mark_mem(bytes.as_mut_ptr().cast(), bytes.len(), MemState::Undefined);
}

fn main() {
    if !matches!(crabgrind::run_mode(), crabgrind::RunMode::Valgrind) {
        eprintln!("run this under valgrind: scripts/ctgrind.sh");
        std::process::exit(2);
    }
    let now = Timestamp::from_unix_secs(1_614_265_330);
    // Wrong signatures: the first, and the last, decoded byte differ from the tag.
    let headers = Headers {
        id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp: "1614265330",
        signature: "v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
    };

    // Raw key bytes: HMAC key setup, hashing and the comparison of the (secret)
    // tag with each candidate all run on secret data.
    let mut key = *b"1\xf2\x90\xf6\xbf\x0c\x18\x8a\xabO\x05\x8f\x0f\xc2\x08,\xf6Hb\xd6-\xa2\xd4\xb0";
    secret(&mut key);
    let webhook = Webhook::from_key(&key).expect("non-empty key");
    for body in [&br#"{"test": 2432232314}"#[..], &[b'a'; 1000]] {
        let mut result = webhook.verify(black_box(&headers), body, now);
        // The accept / reject decision is the one value that becomes public.
        let _ = mark_mem((&raw mut result).cast(), size_of_val(&result), MemState::Defined);
        println!(
            "verify, {}-byte body: {}",
            body.len(),
            if result.is_err() { "rejected" } else { "accepted" }
        );
    }
    // Signing: the tag is secret until it is sent, so its encoding must not
    // branch or index on it either. The finished entry is what becomes public.
    let mut signature = webhook.sign(headers.id, now, b"{}").expect("an HMAC key signs");
    let _ = mark_mem((&raw mut signature).cast(), size_of_val(&signature), MemState::Defined);
    println!("sign: {signature}");
}
