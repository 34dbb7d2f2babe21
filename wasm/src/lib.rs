//! A WebAssembly build of the verifier with a small C ABI over linear memory.
//!
//! No imports: the module needs no clock (the caller passes `now`), no
//! allocator and no host functions. The JavaScript wrapper (`js/core.mjs`)
//! drives it through fixed buffers (see [`session`]):
//!
//! 1. `wh_keys` loads the secrets of the `Webhook` in use (JavaScript keeps
//!    them, so any number of `Webhook`s can exist).
//! 2. `wh_headers` gives the header buffer; `wh_begin` checks the headers and
//!    the timestamp window before any of the body is sent.
//! 3. `wh_update` takes the body in chunks from the chunk buffer; `wh_finish`
//!    says which key matched.
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
    /// [`Error::TooManyKeys`](webhook_signature::Error::TooManyKeys): more
    /// than [`crate::session::MAX_KEYS`] secrets.
    pub const TOO_MANY_KEYS: u32 = 16;
    /// `wh_update`, `wh_finish` or `wh_sign` with no verification started or no keys loaded.
    pub const NOT_STARTED: u32 = 17;
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

pub mod session;

#[cfg(target_arch = "wasm32")]
mod memory {
    use core::sync::atomic::{AtomicUsize, Ordering};

    const PAGE: usize = 65_536;
    /// The scratch region: first page and page count (0 pages: none yet).
    static START: AtomicUsize = AtomicUsize::new(0);
    static PAGES: AtomicUsize = AtomicUsize::new(0);

    /// A region of at least `len` bytes for a body to sign that is larger
    /// than the chunk buffer (signing takes the body whole), reused while it
    /// is large enough; a larger request grows memory by the next power of
    /// two of pages. Verification never uses it. Returns 0 if memory cannot grow.
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
    use super::session::*;
    use super::status;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const PREVIOUS: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;
    // The peers' cross-library vector (tests/common/mod.rs).
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn write(to: *mut u8, at: usize, bytes: &[u8]) {
        // SAFETY: the tests write within the buffers' capacities, between calls.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), to.add(at), bytes.len()) }
    }

    fn load(secrets: &[(u32, &[u8])]) -> u32 {
        let mut at = 0;
        for (kind, secret) in secrets {
            write(wh_chunk(), at, &[*kind as u8]);
            write(wh_chunk(), at + 1, &(secret.len() as u32).to_le_bytes());
            write(wh_chunk(), at + 5, secret);
            at += 5 + secret.len();
        }
        wh_keys(secrets.len(), at, 300.0)
    }

    fn verify(timestamp: &str, signature: &str, chunks: &[&[u8]], now: u64) -> u32 {
        let headers = wh_headers();
        write(headers, 0, ID.as_bytes());
        write(headers, ID.len(), timestamp.as_bytes());
        write(headers, ID.len() + timestamp.len(), signature.as_bytes());
        let status = wh_begin(ID.len(), timestamp.len(), signature.len(), now as f64);
        if status != status::OK {
            return status;
        }
        for chunk in chunks {
            write(wh_chunk(), 0, chunk);
            assert_eq!(wh_update(chunk.len()), status::OK);
        }
        wh_finish()
    }

    #[test]
    fn verification_streams_and_maps_the_errors() {
        let _serial = tests_lock();
        assert_eq!(load(&[(SECRET_TEXT, PREVIOUS.as_bytes()), (SECRET_TEXT, SECRET.as_bytes())]), status::OK);
        let (head, tail) = PAYLOAD.split_at(7);
        assert_eq!(
            verify("1614265330", SIGNATURE, &[head, tail], 1_614_265_330),
            1 << 8,
            "second key matched"
        );
        assert_eq!(verify("1614265330", SIGNATURE, &[b"{}"], 1_614_265_330), status::NO_MATCHING_SIGNATURE);
        assert_eq!(verify("1614265330", SIGNATURE, &[PAYLOAD], 1_614_266_000), status::TIMESTAMP_TOO_OLD);
        assert_eq!(verify("16e8", SIGNATURE, &[PAYLOAD], 1_614_265_330), status::INVALID_TIMESTAMP);
        assert_eq!(verify("", SIGNATURE, &[PAYLOAD], 1_614_265_330), status::MISSING_TIMESTAMP);
        assert_eq!(verify("1614265330", "v2,x", &[PAYLOAD], 1_614_265_330), status::NO_SUPPORTED_SIGNATURE);
        assert_eq!(verify("1614265330", "\u{7f}", &[PAYLOAD], 1_614_265_330), status::NO_SUPPORTED_SIGNATURE);
        // A header buffer overrun is refused, never read past.
        assert_eq!(wh_begin(HEADER_CAPACITY, 1, 0, 0.0), status::INVALID_SIGNATURE_HEADER);
        assert_eq!(wh_begin(usize::MAX, usize::MAX, 1, 0.0), status::INVALID_SIGNATURE_HEADER);
        assert_eq!(wh_update(1), status::NOT_STARTED);
        assert_eq!(wh_update(CHUNK_CAPACITY + 1), status::NOT_STARTED);
        assert_eq!(wh_finish(), status::NOT_STARTED);
    }

    #[test]
    fn new_headers_or_keys_end_a_verification() {
        let _serial = tests_lock();
        assert_eq!(load(&[(SECRET_TEXT, SECRET.as_bytes())]), status::OK);
        let headers = wh_headers();
        write(headers, 0, ID.as_bytes());
        write(headers, ID.len(), b"1614265330");
        write(headers, ID.len() + 10, SIGNATURE.as_bytes());
        assert_eq!(wh_begin(ID.len(), 10, SIGNATURE.len(), 1_614_265_330.0), status::OK);
        let _ = wh_headers();
        assert_eq!(wh_finish(), status::NOT_STARTED);
        assert_eq!(wh_begin(ID.len(), 10, SIGNATURE.len(), 1_614_265_330.0), status::OK);
        assert_eq!(load(&[(SECRET_TEXT, SECRET.as_bytes())]), status::OK);
        assert_eq!(wh_finish(), status::NOT_STARTED);
    }

    #[test]
    fn keys_load_as_text_or_raw_bytes() {
        let _serial = tests_lock();
        // The peers' secret, decoded: the same key as raw bytes.
        let raw = [
            0x31, 0xf2, 0x90, 0xf6, 0xbf, 0x06, 0x29, 0x8a, 0xab, 0x4f, 0x08, 0xd4, 0x3c, 0x3f, 0x08, 0x2c,
            0xf6, 0x48, 0xa3, 0x62, 0xda, 0x2d, 0xa4, 0xb0,
        ];
        assert_eq!(load(&[(SECRET_RAW, &raw)]), status::OK);
        assert_eq!(verify("1614265330", SIGNATURE, &[PAYLOAD], 1_614_265_330), 0);
        assert_eq!(load(&[(SECRET_RAW, b"")]), status::INVALID_SECRET);
        assert_eq!(wh_finish(), status::NOT_STARTED);
        assert_eq!(load(&[(SECRET_TEXT, b"whsec_!")]), status::INVALID_SECRET);
        assert_eq!(load(&[(SECRET_TEXT, b"\xff")]), status::INVALID_SECRET);
        assert_eq!(load(&[]), status::TOO_MANY_KEYS);
        assert_eq!(load(&[(SECRET_TEXT, SECRET.as_bytes()); MAX_KEYS + 1]), status::TOO_MANY_KEYS);
        // A length past the input is refused.
        write(wh_chunk(), 0, &[0, 255, 255, 0, 0]);
        assert_eq!(wh_keys(1, 5, 300.0), status::INVALID_SECRET);
        assert_eq!(wh_keys(1, CHUNK_CAPACITY + 1, 300.0), status::INVALID_SECRET);
        assert_eq!(load(&[(SECRET_TEXT, b"whsec_")]), status::INVALID_SECRET, "whsec_ alone");
    }

    #[test]
    fn signing_joins_every_key() {
        let _serial = tests_lock();
        assert_eq!(load(&[(SECRET_TEXT, SECRET.as_bytes()), (SECRET_TEXT, SECRET.as_bytes())]), status::OK);
        write(wh_headers(), 0, ID.as_bytes());
        // SAFETY: a live slice with its own length.
        let result = unsafe { wh_sign(ID.len(), 1_614_265_330.0, PAYLOAD.as_ptr(), PAYLOAD.len()) };
        assert_eq!(result & 0xff, status::OK);
        let len = (result >> 8) as usize;
        // SAFETY: `wh_sign` wrote `len` bytes there.
        let header = unsafe { core::slice::from_raw_parts(wh_out(), len) };
        assert_eq!(header, format!("{SIGNATURE} {SIGNATURE}").as_bytes());
        write(wh_headers(), 0, b"a.b");
        // SAFETY: as above.
        assert_eq!(unsafe { wh_sign(3, 1.0, PAYLOAD.as_ptr(), PAYLOAD.len()) }, status::INVALID_ID);
    }
}
