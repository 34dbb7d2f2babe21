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

use webhook_signature::{Error, HeaderName};

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
    /// The key table is full (see [`crate::keys::SLOTS`]), or a request names slots it does not hold.
    pub const TOO_MANY_KEYS: u32 = 16;
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
        Error::TooManyKeys => TOO_MANY_KEYS,
        _ => UNKNOWN,
    }
}

/// A (pointer, length) pair into linear memory.
///
/// # Safety
/// `ptr` must point to `len` initialised bytes that stay valid and unchanged
/// for `'a`, or `len` must be 0.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
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
pub(crate) unsafe fn text<'a>(ptr: *const u8, len: usize, invalid: Error) -> Result<&'a str, Error> {
    // SAFETY: forwarded from the caller.
    core::str::from_utf8(unsafe { bytes(ptr, len) }).map_err(|_| invalid)
}

pub mod keys;

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
    use super::keys::*;
    use super::status;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const PREVIOUS: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn key(secrets: &[&str]) -> Result<usize, u32> {
        let start = wh_key_reserve(secrets.len());
        if start == usize::MAX {
            return Err(status::TOO_MANY_KEYS);
        }
        for (i, secret) in secrets.iter().enumerate() {
            // SAFETY: a live slice with its own length.
            let status = unsafe { wh_key_set(start + i, secret.as_ptr(), secret.len(), 300) };
            if status != status::OK {
                wh_key_free(start, secrets.len());
                return Err(status);
            }
        }
        Ok(start)
    }

    fn verify(start: usize, count: usize, timestamp: &str, signature: &str, body: &[u8], now: u64) -> u32 {
        // SAFETY: every pointer comes from a live slice with its own length.
        unsafe {
            wh_key_verify(
                start,
                count,
                ID.as_ptr(),
                ID.len(),
                timestamp.as_ptr(),
                timestamp.len(),
                signature.as_ptr(),
                signature.len(),
                body.as_ptr(),
                body.len(),
                now as f64,
            )
        }
    }

    #[test]
    fn keyed_verification_maps_the_errors() {
        let _serial = super::keys::tests_lock();
        let start = key(&[PREVIOUS, SECRET]).unwrap();
        assert_eq!(
            verify(start, 2, "1614265330", SIGNATURE, PAYLOAD, 1_614_265_330),
            1 << 8,
            "second key matched"
        );
        assert_eq!(
            verify(start, 2, "1614265330", SIGNATURE, b"{}", 1_614_265_330),
            status::NO_MATCHING_SIGNATURE
        );
        assert_eq!(
            verify(start, 2, "1614265330", SIGNATURE, PAYLOAD, 1_614_266_000),
            status::TIMESTAMP_TOO_OLD
        );
        assert_eq!(verify(start, 2, "16e8", SIGNATURE, PAYLOAD, 1_614_265_330), status::INVALID_TIMESTAMP);
        assert_eq!(verify(start, 2, "", SIGNATURE, PAYLOAD, 1_614_265_330), status::MISSING_TIMESTAMP);
        assert_eq!(
            verify(start, 2, "1614265330", "v2,x", PAYLOAD, 1_614_265_330),
            status::NO_SUPPORTED_SIGNATURE
        );
        wh_key_free(start, 2);
        assert_eq!(verify(start, 2, "1614265330", SIGNATURE, PAYLOAD, 1_614_265_330), status::TOO_MANY_KEYS);
        assert_eq!(key(&["whsec_!"]), Err(status::INVALID_SECRET));
    }

    #[test]
    fn signing_joins_every_key() {
        let _serial = super::keys::tests_lock();
        let start = key(&[SECRET, SECRET]).unwrap();
        let mut out = [0u8; MAX_HEADER_LEN];
        let mut len = 0usize;
        // SAFETY: inputs are live slices; `out` and `len` are writable locals.
        let status = unsafe {
            wh_key_sign(
                start,
                2,
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
        assert_eq!(&out[..len], format!("{SIGNATURE} {SIGNATURE}").as_bytes());
        let mut small = [0u8; 50];
        // SAFETY: as above, with a 50-byte output buffer.
        let status = unsafe {
            wh_key_sign(
                start,
                2,
                ID.as_ptr(),
                ID.len(),
                1,
                b"".as_ptr(),
                0,
                small.as_mut_ptr(),
                small.len(),
                &mut len,
            )
        };
        assert_eq!(status, status::BUFFER_TOO_SMALL);
        wh_key_free(start, 2);
    }

    #[test]
    fn the_table_fills_up_and_frees() {
        let _serial = super::keys::tests_lock();
        let free = wh_key_free_slots();
        let runs: Vec<usize> = (0..free).map(|_| key(&[SECRET]).unwrap()).collect();
        assert_eq!(wh_key_free_slots(), 0);
        assert_eq!(key(&[SECRET]), Err(status::TOO_MANY_KEYS));
        for start in runs {
            wh_key_free(start, 1);
        }
        assert_eq!(wh_key_free_slots(), free);
        assert_eq!(wh_key_reserve(SLOTS + 1), usize::MAX);
        assert_eq!(wh_key_reserve(0), usize::MAX);
    }
}
