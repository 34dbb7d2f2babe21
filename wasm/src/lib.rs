//! A WebAssembly build of the verifier with a small C ABI over linear memory.
//!
//! No imports: the module needs no clock (the caller passes `now`), no
//! allocator and no host functions. The JavaScript wrapper
//! `webhook-signature.mjs` drives it as follows:
//!
//! 1. `wh_scratch(len) -> ptr` returns a region of at least `len` bytes of
//!    linear memory, reused across calls (grown, never shrunk).
//! 2. The caller writes the inputs there, one after another.
//! 3. `wh_verify(...)` or `wh_sign(...)` reads them by (pointer, length).
//!
//! Every function returns a status that maps one to one to
//! [`webhook_signature::Error`] (see [`status`]); 0 is success.
//!
//! On targets other than wasm32 this is an ordinary `std` library, so the same
//! functions are tested natively by `cargo test`.
#![cfg_attr(target_arch = "wasm32", no_std)]

use webhook_signature::{Error, HeaderName, Headers, MAX_SIGNATURE_LEN, Timestamp, Webhook};

/// Status codes returned by the exported functions.
pub mod status {
    /// Success.
    pub const OK: u32 = 0;
    /// [`Error::InvalidSecret`](webhook_signature::Error::InvalidSecret).
    pub const INVALID_SECRET: u32 = 1;
    /// [`Error::InvalidId`](webhook_signature::Error::InvalidId).
    pub const INVALID_ID: u32 = 2;
    /// [`Error::MissingHeader`](webhook_signature::Error::MissingHeader) `webhook-id`.
    pub const MISSING_ID: u32 = 3;
    /// [`Error::MissingHeader`](webhook_signature::Error::MissingHeader) `webhook-timestamp`.
    pub const MISSING_TIMESTAMP: u32 = 4;
    /// [`Error::MissingHeader`](webhook_signature::Error::MissingHeader) `webhook-signature`.
    pub const MISSING_SIGNATURE: u32 = 5;
    /// [`Error::InvalidHeader`](webhook_signature::Error::InvalidHeader) `webhook-id` (not UTF-8).
    pub const INVALID_ID_HEADER: u32 = 6;
    /// [`Error::InvalidHeader`](webhook_signature::Error::InvalidHeader) `webhook-timestamp`.
    pub const INVALID_TIMESTAMP_HEADER: u32 = 7;
    /// [`Error::InvalidHeader`](webhook_signature::Error::InvalidHeader) `webhook-signature`.
    pub const INVALID_SIGNATURE_HEADER: u32 = 8;
    /// [`Error::InvalidTimestamp`](webhook_signature::Error::InvalidTimestamp).
    pub const INVALID_TIMESTAMP: u32 = 9;
    /// [`Error::TimestampTooOld`](webhook_signature::Error::TimestampTooOld).
    pub const TIMESTAMP_TOO_OLD: u32 = 10;
    /// [`Error::TimestampTooNew`](webhook_signature::Error::TimestampTooNew).
    pub const TIMESTAMP_TOO_NEW: u32 = 11;
    /// [`Error::NoSupportedSignature`](webhook_signature::Error::NoSupportedSignature).
    pub const NO_SUPPORTED_SIGNATURE: u32 = 12;
    /// [`Error::NoMatchingSignature`](webhook_signature::Error::NoMatchingSignature).
    pub const NO_MATCHING_SIGNATURE: u32 = 13;
    /// [`Error::CannotSign`](webhook_signature::Error::CannotSign).
    pub const CANNOT_SIGN: u32 = 14;
    /// [`Error::BufferTooSmall`](webhook_signature::Error::BufferTooSmall).
    pub const BUFFER_TOO_SMALL: u32 = 15;
    /// An error variant added after this module was built.
    pub const UNKNOWN: u32 = 255;
}

/// The status code of an error.
#[must_use]
pub fn status_of(error: Error) -> u32 {
    use status::*;
    match error {
        Error::InvalidSecret => INVALID_SECRET,
        Error::InvalidId => INVALID_ID,
        Error::MissingHeader(HeaderName::Id) => MISSING_ID,
        Error::MissingHeader(HeaderName::Timestamp) => MISSING_TIMESTAMP,
        Error::MissingHeader(HeaderName::Signature) => MISSING_SIGNATURE,
        Error::InvalidHeader(HeaderName::Id) => INVALID_ID_HEADER,
        Error::InvalidHeader(HeaderName::Timestamp) => INVALID_TIMESTAMP_HEADER,
        Error::InvalidHeader(HeaderName::Signature) => INVALID_SIGNATURE_HEADER,
        Error::InvalidTimestamp => INVALID_TIMESTAMP,
        Error::TimestampTooOld => TIMESTAMP_TOO_OLD,
        Error::TimestampTooNew => TIMESTAMP_TOO_NEW,
        Error::NoSupportedSignature => NO_SUPPORTED_SIGNATURE,
        Error::NoMatchingSignature => NO_MATCHING_SIGNATURE,
        Error::CannotSign => CANNOT_SIGN,
        Error::BufferTooSmall => BUFFER_TOO_SMALL,
        _ => UNKNOWN,
    }
}

/// A (pointer, length) pair into linear memory.
///
/// # Safety
/// `ptr` must point to `len` initialised bytes that stay valid and unchanged
/// for `'a`, or `len` must be 0.
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr` for `'a`.
    unsafe { core::slice::from_raw_parts(ptr, len) }
}

/// Like [`bytes`], as UTF-8 text; `invalid` if it is not.
///
/// # Safety
/// As [`bytes`].
unsafe fn text<'a>(ptr: *const u8, len: usize, invalid: Error) -> Result<&'a str, Error> {
    // SAFETY: forwarded from the caller.
    core::str::from_utf8(unsafe { bytes(ptr, len) }).map_err(|_| invalid)
}

fn to_status(result: Result<(), Error>) -> u32 {
    result.map_or_else(status_of, |()| status::OK)
}

/// Verifies a delivery. `now` is Unix seconds; `tolerance` is in seconds.
///
/// # Safety
/// Each (pointer, length) pair must describe readable bytes of linear memory
/// (as written by the caller into [`wh_scratch`]'s region), or have length 0.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn wh_verify(
    secret: *const u8,
    secret_len: usize,
    id: *const u8,
    id_len: usize,
    timestamp: *const u8,
    timestamp_len: usize,
    signature: *const u8,
    signature_len: usize,
    body: *const u8,
    body_len: usize,
    now: u64,
    tolerance: u64,
) -> u32 {
    // SAFETY: the caller guarantees every (pointer, length) pair.
    let inputs = unsafe {
        (
            text(secret, secret_len, Error::InvalidSecret),
            text(id, id_len, Error::InvalidHeader(HeaderName::Id)),
            text(timestamp, timestamp_len, Error::InvalidHeader(HeaderName::Timestamp)),
            text(signature, signature_len, Error::InvalidHeader(HeaderName::Signature)),
            bytes(body, body_len),
        )
    };
    to_status((|| {
        let (secret, id, timestamp, signature, body) = (inputs.0?, inputs.1?, inputs.2?, inputs.3?, inputs.4);
        let webhook = Webhook::new(secret)?.with_tolerance(core::time::Duration::from_secs(tolerance));
        webhook.verify(&Headers { id, timestamp, signature }, body, Timestamp::from_unix_secs(now))
    })())
}

/// Signs a delivery, writing the `webhook-signature` entry to `out` (room for
/// [`MAX_SIGNATURE_LEN`] bytes) and its length to `*out_len`.
///
/// # Safety
/// As [`wh_verify`]; `out` must be writable for `out_cap` bytes and `out_len`
/// writable for a `usize`, neither overlapping the inputs.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn wh_sign(
    secret: *const u8,
    secret_len: usize,
    id: *const u8,
    id_len: usize,
    timestamp: u64,
    body: *const u8,
    body_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> u32 {
    // SAFETY: the caller guarantees every (pointer, length) pair.
    let (secret, id, body) = unsafe {
        (
            text(secret, secret_len, Error::InvalidSecret),
            text(id, id_len, Error::InvalidId),
            bytes(body, body_len),
        )
    };
    let signature = match (secret, id) {
        (Ok(secret), Ok(id)) => {
            Webhook::new(secret).and_then(|w| w.sign(id, Timestamp::from_unix_secs(timestamp), body))
        }
        (Err(error), _) | (_, Err(error)) => Err(error),
    };
    to_status(signature.and_then(|signature| {
        let text = signature.as_str().as_bytes();
        if text.len() > out_cap.min(MAX_SIGNATURE_LEN) {
            return Err(Error::BufferTooSmall);
        }
        // SAFETY: `out` is writable for `out_cap >= text.len()` bytes and does
        // not overlap `text` (a local buffer); `out_len` is writable.
        unsafe {
            core::ptr::copy_nonoverlapping(text.as_ptr(), out, text.len());
            out_len.write(text.len());
        }
        Ok(())
    }))
}

#[cfg(target_arch = "wasm32")]
mod memory {
    use core::sync::atomic::{AtomicUsize, Ordering};

    const PAGE: usize = 65_536;
    /// The scratch region: first page and page count (0 pages: none yet).
    static START: AtomicUsize = AtomicUsize::new(0);
    static PAGES: AtomicUsize = AtomicUsize::new(0);

    /// A region of at least `len` bytes for the inputs of the next call,
    /// reused while it is large enough; a larger request grows memory by the
    /// next power of two of pages. Returns 0 if memory cannot grow.
    #[unsafe(no_mangle)]
    pub extern "C" fn wh_scratch(len: usize) -> *mut u8 {
        let needed = len.div_ceil(PAGE).max(1);
        if PAGES.load(Ordering::Relaxed) < needed {
            let pages = needed.next_power_of_two();
            let start = core::arch::wasm32::memory_grow(0, pages);
            if start == usize::MAX {
                return core::ptr::null_mut();
            }
            START.store(start, Ordering::Relaxed);
            PAGES.store(pages, Ordering::Relaxed);
        }
        // An address in linear memory: integer-to-pointer is the only way to name it.
        (START.load(Ordering::Relaxed) * PAGE) as *mut u8
    }

    /// Panics cannot happen in the library (it never panics on any input);
    /// should one happen anyway, trap rather than continue.
    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        core::arch::wasm32::unreachable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn verify(secret: &[u8], timestamp: &str, signature: &str, body: &[u8], now: u64) -> u32 {
        // SAFETY: every pointer comes from a live slice with its own length.
        unsafe {
            wh_verify(
                secret.as_ptr(),
                secret.len(),
                ID.as_ptr(),
                ID.len(),
                timestamp.as_ptr(),
                timestamp.len(),
                signature.as_ptr(),
                signature.len(),
                body.as_ptr(),
                body.len(),
                now,
                300,
            )
        }
    }

    #[test]
    fn verify_statuses_map_the_errors() {
        let secret = SECRET.as_bytes();
        assert_eq!(verify(secret, "1614265330", SIGNATURE, PAYLOAD, 1_614_265_330), status::OK);
        assert_eq!(
            verify(secret, "1614265330", SIGNATURE, b"{}", 1_614_265_330),
            status::NO_MATCHING_SIGNATURE
        );
        assert_eq!(
            verify(secret, "1614265330", SIGNATURE, PAYLOAD, 1_614_266_000),
            status::TIMESTAMP_TOO_OLD
        );
        assert_eq!(verify(secret, "16e8", SIGNATURE, PAYLOAD, 1_614_265_330), status::INVALID_TIMESTAMP);
        assert_eq!(verify(secret, "", SIGNATURE, PAYLOAD, 1_614_265_330), status::MISSING_TIMESTAMP);
        assert_eq!(verify(b"whsec_!", "1614265330", SIGNATURE, PAYLOAD, 0), status::INVALID_SECRET);
        assert_eq!(verify(b"\xff", "1614265330", SIGNATURE, PAYLOAD, 0), status::INVALID_SECRET);
    }

    #[test]
    fn sign_writes_the_entry() {
        let mut out = [0u8; MAX_SIGNATURE_LEN];
        let mut len = 0usize;
        // SAFETY: inputs are live slices; `out` and `len` are writable locals.
        let status = unsafe {
            wh_sign(
                SECRET.as_ptr(),
                SECRET.len(),
                ID.as_ptr(),
                ID.len(),
                1_614_265_330,
                PAYLOAD.as_ptr(),
                PAYLOAD.len(),
                out.as_mut_ptr(),
                out.len(),
                &mut len,
            )
        };
        assert_eq!(status, status::OK);
        assert_eq!(&out[..len], SIGNATURE.as_bytes());
        let mut small = [0u8; 10];
        // SAFETY: as above, with a 10-byte output buffer.
        let status = unsafe {
            wh_sign(
                SECRET.as_ptr(),
                SECRET.len(),
                ID.as_ptr(),
                ID.len(),
                1,
                b"".as_ptr(),
                0,
                small.as_mut_ptr(),
                10,
                &mut len,
            )
        };
        assert_eq!(status, status::BUFFER_TOO_SMALL);
    }
}
