//! Zero allocations: a counting global allocator around verify (valid and every
//! rejection), rotation, streaming and sign.
// Test helpers: a failed unwrap or index is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use std::alloc::System;

use common::{PAYLOAD, SECRET, SIGNATURE, headers, headers_with};
use webhook_signature::{AnyVerification, Error, Headers, MAX_SIGNATURE_LEN, Timestamp, Webhook};

struct Counting;

thread_local! {
    // Per thread, so the test harness's own threads do not count.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counter is a const-initialised thread-local `Cell`
// without a destructor, so touching it never allocates or re-enters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get().wrapping_add(1)));
        // SAFETY: the caller upholds `alloc`'s contract, passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get().wrapping_add(1)));
        // SAFETY: the caller upholds `realloc`'s contract, passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many allocations it made on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = f();
    (ALLOCATIONS.with(Cell::get).wrapping_sub(before), result)
}

/// A named operation under test, returning something to print on failure.
type Case<'a> = (&'static str, Box<dyn Fn() -> Result<usize, Error> + 'a>);

#[test]
fn nothing_allocates() {
    let big = vec![b'a'; 1 << 20];
    let keys = [
        Webhook::from_key(b"old").unwrap(),
        Webhook::from_key(b"older").unwrap(),
        Webhook::new(SECRET).unwrap(),
    ];
    let webhook = &keys[2];
    let stale = Timestamp::from_unix_secs(common::NOW.as_unix_secs() + 10_000);
    let wrong = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let long_list = format!("{}{SIGNATURE}", "v1,xx v2,yy ".repeat(200));
    let big_secret = "QUJD".repeat(1365); // 4095 bytes
    let mut out = [0u8; 3 * (MAX_SIGNATURE_LEN + 1)];

    let cases: Vec<Case<'_>> = vec![
        ("new", Box::new(|| Webhook::new(SECRET).map(|_| 0))),
        ("new, 4 KiB key", Box::new(|| Webhook::new(&big_secret).map(|_| 0))),
        ("verify", Box::new(|| webhook.verify(&headers(), PAYLOAD, common::NOW).map(|()| 0))),
        (
            "verify, long list",
            Box::new(|| webhook.verify(&headers_with(&long_list), PAYLOAD, common::NOW).map(|()| 0)),
        ),
        (
            "verify_ignoring_timestamp",
            Box::new(|| webhook.verify_ignoring_timestamp(&headers(), PAYLOAD).map(|()| 0)),
        ),
        ("stale", Box::new(|| webhook.verify(&headers(), PAYLOAD, stale).map(|()| 0))),
        ("missing", Box::new(|| webhook.verify(&headers_with(""), PAYLOAD, common::NOW).map(|()| 0))),
        (
            "bad timestamp",
            Box::new(|| {
                webhook.verify(&Headers { timestamp: "+1", ..headers() }, PAYLOAD, common::NOW).map(|()| 0)
            }),
        ),
        ("unsupported", Box::new(|| webhook.verify(&headers_with("v2,x"), PAYLOAD, common::NOW).map(|()| 0))),
        ("wrong, 1 MiB", Box::new(|| webhook.verify(&headers_with(wrong), &big, common::NOW).map(|()| 0))),
        ("verify_any", Box::new(|| Webhook::verify_any(&keys, &headers(), PAYLOAD, common::NOW))),
        (
            "verify_any, no match",
            Box::new(|| Webhook::verify_any(&keys[..2], &headers(), PAYLOAD, common::NOW)),
        ),
        (
            "streaming",
            Box::new(|| {
                let mut verification = webhook.begin(&headers(), common::NOW)?;
                PAYLOAD.chunks(3).for_each(|chunk| verification.update(chunk));
                verification.finish().map(|()| 0)
            }),
        ),
        (
            "streaming, several keys",
            Box::new(|| {
                let mut verification: AnyVerification<'_, 8> =
                    Webhook::begin_any(&keys, &headers(), common::NOW)?;
                PAYLOAD.chunks(3).for_each(|chunk| verification.update(chunk));
                verification.finish()
            }),
        ),
        ("sign", Box::new(|| webhook.sign(common::ID, common::NOW, &big).map(|s| s.as_str().len()))),
    ];
    for (name, case) in &cases {
        let (count, result) = allocations(case);
        assert_eq!(count, 0, "{name} allocated ({result:?})");
    }
    let (count, header) =
        allocations(|| Webhook::sign_header(&keys, common::ID, common::NOW, PAYLOAD, &mut out).map(str::len));
    assert_eq!(count, 0, "sign_header allocated ({header:?})");

    #[cfg(feature = "ed25519")]
    {
        let b1 = &common::V1A_VECTORS[0];
        let secret = Webhook::new(b1.secret).unwrap();
        let public = Webhook::new(b1.public).unwrap();
        let mixed = format!("{} {}", SIGNATURE, b1.signature);
        let ed_cases: Vec<Case<'_>> = vec![
            ("new whsk_", Box::new(|| Webhook::new(b1.secret).map(|_| 0))),
            ("new whpk_", Box::new(|| Webhook::new(b1.public).map(|_| 0))),
            (
                "v1a sign, 1 MiB",
                Box::new(|| secret.sign(common::ID, common::NOW, &big).map(|s| s.as_str().len())),
            ),
            (
                "v1a verify",
                Box::new(|| public.verify(&headers_with(b1.signature), PAYLOAD, common::NOW).map(|()| 0)),
            ),
            (
                "v1a verify, mixed",
                Box::new(|| public.verify(&headers_with(&mixed), PAYLOAD, common::NOW).map(|()| 0)),
            ),
            (
                "v1a wrong, 1 MiB",
                Box::new(|| public.verify(&headers_with(b1.signature), &big, common::NOW).map(|()| 0)),
            ),
            (
                "v1a streaming",
                Box::new(|| {
                    let mut verification = public.begin(&headers_with(b1.signature), common::NOW)?;
                    PAYLOAD.chunks(3).for_each(|chunk| verification.update(chunk));
                    verification.finish().map(|()| 0)
                }),
            ),
            (
                "rotation across schemes",
                Box::new(|| {
                    Webhook::verify_any(
                        &[webhook.clone(), public.clone()],
                        &headers_with(&mixed),
                        PAYLOAD,
                        common::NOW,
                    )
                }),
            ),
        ];
        for (name, case) in &ed_cases {
            let (count, result) = allocations(case);
            assert_eq!(count, 0, "{name} allocated ({result:?})");
        }
    }

    // The counter works: a Vec does count.
    assert_eq!(allocations(|| vec![1u8]).0, 1);
}
