//! The module's state: the keys of the `Webhook` in use, and the one
//! verification in progress, in fixed buffers.
//!
//! JavaScript keeps each `Webhook`'s secrets itself (so any number of them can
//! exist, and the garbage collector frees them like any object) and loads them
//! here when a different `Webhook` is used. A verification reads its headers
//! into [`HEADER_CAPACITY`] bytes, is checked before any of the body crosses,
//! then takes the body in chunks of at most [`CHUNK_CAPACITY`] bytes: linear
//! memory does not grow with the body.
//!
//! wasm32 without threads runs one call at a time, which is what makes the
//! statics' interior mutability sound (see `Shared`).

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::time::Duration;

use webhook_signature::{AnyVerification, Error, HeaderName, Headers, MAX_SIGNATURE_LEN, Timestamp, Webhook};

use crate::{status, status_of};

/// The most secrets one `Webhook` holds: a rotation needs two or three.
pub const MAX_KEYS: usize = 8;
/// Room for `webhook-id`, `webhook-timestamp` and `webhook-signature`
/// together: Node.js refuses request headers over 16 KiB, Workers over 32 KiB.
pub const HEADER_CAPACITY: usize = 32 * 1024;
/// Room for one body chunk, the secrets being loaded, or a body being signed.
pub const CHUNK_CAPACITY: usize = 64 * 1024;
/// Room for the signature header of [`MAX_KEYS`] keys.
pub const MAX_HEADER_LEN: usize = MAX_KEYS * (MAX_SIGNATURE_LEN + 1);

/// A secret as loaded: `whsec_…` text (or `whpk_`/`whsk_` in the Ed25519 build).
pub const SECRET_TEXT: u32 = 0;
/// A secret as loaded: raw key bytes (`{ format: 'raw' }`).
pub const SECRET_RAW: u32 = 1;

/// A static behind an `UnsafeCell`.
struct Shared<T>(UnsafeCell<T>);

// With the `atomics` target feature, wasm32 has threads sharing this memory,
// and the `Sync` below would be unsound: refuse to build rather than race.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
compile_error!(
    "webhook-signature-wasm keeps its state in statics that are only sound without threads: \
     build without the `atomics` target feature"
);

// SAFETY: the module is built for wasm32 without threads (the compile_error!
// above refuses the `atomics` feature), and natively only for its unit tests,
// which take `NATIVE_LOCK` around every call, so no two calls ever touch these
// statics at the same time.
unsafe impl<T> Sync for Shared<T> {}

/// A `None` kept uninitialised until first use: a `None` is not all zero
/// bytes, and a constant one would put the whole value into the module file.
struct Lazy<T>(Shared<(MaybeUninit<Option<T>>, bool)>);

impl<T> Lazy<T> {
    const fn new() -> Self {
        Self(Shared(UnsafeCell::new((MaybeUninit::uninit(), false))))
    }

    /// The value, written as `None` on first use.
    ///
    /// # Safety
    /// No other reference to the value may be live while the result is used.
    #[allow(clippy::mut_from_ref)]
    unsafe fn get(&'static self) -> &'static mut Option<T> {
        // SAFETY: calls never overlap (see `Shared`), and the caller holds no
        // other reference.
        let (value, ready) = unsafe { &mut *self.0.0.get() };
        if !*ready {
            value.write(None);
            *ready = true;
        }
        // SAFETY: written just above on first use, and `ready` says so.
        unsafe { value.assume_init_mut() }
    }
}

/// The loaded keys, padded with copies of the first to fill the array, and
/// how many are real.
static KEYS: Lazy<([Webhook; MAX_KEYS], usize)> = Lazy::new();
/// The verification in progress; it borrows KEYS and the header buffer, so it
/// is dropped before either changes.
static PENDING: Lazy<AnyVerification<'static, MAX_KEYS>> = Lazy::new();
/// All zero bytes, so they cost the module file nothing.
static HEADER_BUFFER: Shared<[u8; HEADER_CAPACITY]> = Shared(UnsafeCell::new([0; HEADER_CAPACITY]));
static CHUNK_BUFFER: Shared<[u8; CHUNK_CAPACITY]> = Shared(UnsafeCell::new([0; CHUNK_CAPACITY]));
static OUT_BUFFER: Shared<[u8; MAX_HEADER_LEN]> = Shared(UnsafeCell::new([0; MAX_HEADER_LEN]));

/// Native builds (the unit tests run on several threads) take a lock, so the
/// single-caller rule behind `Shared` holds there too.
#[cfg(not(target_arch = "wasm32"))]
static NATIVE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Serializes tests that use the state across several calls.
#[cfg(test)]
pub(crate) fn tests_lock() -> std::sync::MutexGuard<'static, ()> {
    static WHOLE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    WHOLE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs one exported call: natively under `NATIVE_LOCK`.
fn serial<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(not(target_arch = "wasm32"))]
    let _native = NATIVE_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    f()
}

/// Drops the verification in progress, releasing what it borrows.
fn end_pending() {
    // SAFETY: the only reference to PENDING, used within this statement.
    unsafe { *PENDING.get() = None };
}

/// `len` bytes at the start of a buffer, or `None` if it holds fewer.
///
/// # Safety
/// No reference to the buffer may be live, and none may be kept past the
/// caller's use (JavaScript writes it between calls).
unsafe fn prefix<const N: usize>(buffer: &'static Shared<[u8; N]>, len: usize) -> Option<&'static [u8]> {
    // SAFETY: forwarded from the caller.
    unsafe { (*buffer.0.get()).get(..len) }
}

/// The address of the header buffer, for the next [`wh_begin`] or
/// [`wh_sign`]. Ends any verification in progress first, as it borrows the
/// headers that JavaScript is about to overwrite.
#[unsafe(no_mangle)]
pub extern "C" fn wh_headers() -> *mut u8 {
    serial(end_pending);
    HEADER_BUFFER.0.get().cast()
}

/// The address of the chunk buffer, for [`wh_keys`], [`wh_update`] and [`wh_sign`].
#[unsafe(no_mangle)]
pub extern "C" fn wh_chunk() -> *mut u8 {
    CHUNK_BUFFER.0.get().cast()
}

/// The address of the buffer [`wh_sign`] writes its header to.
#[unsafe(no_mangle)]
pub extern "C" fn wh_out() -> *const u8 {
    OUT_BUFFER.0.get().cast()
}

/// Reads one secret: `kind` is [`SECRET_TEXT`] or [`SECRET_RAW`].
fn key(kind: u32, secret: &[u8]) -> Result<Webhook, Error> {
    if kind == SECRET_RAW {
        return Webhook::from_key(secret);
    }
    core::str::from_utf8(secret).map_err(|_| Error::InvalidSecret).and_then(Webhook::new)
}

/// Loads `count` keys from the chunk buffer, each written as its kind (one
/// byte), its length (four bytes, little-endian) and its bytes, all with a
/// tolerance in seconds. Replaces the keys loaded before.
#[unsafe(no_mangle)]
pub extern "C" fn wh_keys(count: usize, len: usize, tolerance: f64) -> u32 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let tolerance = Duration::from_secs(tolerance as u64);
    serial(|| {
        // The verification borrows the keys about to be replaced.
        end_pending();
        // SAFETY: no verification is pending, so nothing else borrows KEYS.
        let keys = unsafe { KEYS.get() };
        *keys = None;
        if count == 0 || count > MAX_KEYS {
            return status::TOO_MANY_KEYS;
        }
        // SAFETY: used within this call only (keys are parsed into their own state).
        let Some(mut input) = (unsafe { prefix(&CHUNK_BUFFER, len) }) else { return status::INVALID_SECRET };
        let mut built: [Option<Webhook>; MAX_KEYS] = [const { None }; MAX_KEYS];
        for slot in built.iter_mut().take(count) {
            let Some((&kind, rest)) = input.split_first() else { return status::INVALID_SECRET };
            let Some((length, rest)) = rest.split_first_chunk::<4>() else { return status::INVALID_SECRET };
            let Some((secret, rest)) = rest.split_at_checked(u32::from_le_bytes(*length) as usize) else {
                return status::INVALID_SECRET;
            };
            match key(u32::from(kind), secret) {
                Ok(webhook) => *slot = Some(webhook.with_tolerance(tolerance)),
                Err(error) => return status_of(error),
            }
            input = rest;
        }
        let Some(Some(first)) = built.first().cloned() else { return status::INVALID_SECRET };
        *keys = Some((built.map(|key| key.unwrap_or_else(|| first.clone())), count));
        status::OK
    })
}

/// The loaded keys, borrowed until the next [`wh_keys`].
///
/// # Safety
/// No mutable reference to KEYS may be live; the result must not be used
/// after [`wh_keys`] runs (which ends the pending verification first).
unsafe fn loaded() -> Option<&'static [Webhook]> {
    // SAFETY: forwarded from the caller; only `wh_keys` writes KEYS.
    let keys: &'static Option<_> = unsafe { KEYS.get() };
    keys.as_ref().map(|(keys, count)| keys.get(..*count).unwrap_or_default())
}

/// Starts verifying with the loaded keys: the header buffer holds the id,
/// the timestamp and the signature, one after another, `now` in Unix
/// seconds. Every header check and the timestamp window are decided here,
/// before any of the body is sent.
#[unsafe(no_mangle)]
pub extern "C" fn wh_begin(id_len: usize, timestamp_len: usize, signature_len: usize, now: f64) -> u32 {
    // `now` comes as a JavaScript number (no BigInt to allocate per call);
    // `as` saturates: negative or NaN is 0, beyond u64 is u64::MAX.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let now = Timestamp::from_unix_secs(now as u64);
    serial(|| {
        end_pending();
        let total = id_len.saturating_add(timestamp_len).saturating_add(signature_len);
        // SAFETY: the verification that borrowed the header buffer was just
        // dropped; the new one borrows it until `wh_headers` drops it again,
        // before JavaScript writes.
        let Some(input) = (unsafe { prefix(&HEADER_BUFFER, total) }) else {
            return status::INVALID_SIGNATURE_HEADER;
        };
        // Always in range (`total` covers both); `split_at` would link a panic path.
        let (id, rest) = input.split_at_checked(id_len).unwrap_or((input, &[]));
        let (timestamp, signature) = rest.split_at_checked(timestamp_len).unwrap_or((rest, &[]));
        let text = |bytes, name| core::str::from_utf8(bytes).map_err(|_| Error::InvalidHeader(name));
        let headers = match (
            text(id, HeaderName::Id),
            text(timestamp, HeaderName::Timestamp),
            text(signature, HeaderName::Signature),
        ) {
            (Ok(id), Ok(timestamp), Ok(signature)) => Headers { id, timestamp, signature },
            (Err(error), ..) | (_, Err(error), _) | (.., Err(error)) => return status_of(error),
        };
        // SAFETY: `wh_keys`, the only writer, ends this verification first.
        let Some(keys) = (unsafe { loaded() }) else { return status::NOT_STARTED };
        match Webhook::begin_any(keys, &headers, now) {
            Ok(verification) => {
                // SAFETY: the only reference to PENDING here.
                unsafe { *PENDING.get() = Some(verification) };
                status::OK
            }
            Err(error) => status_of(error),
        }
    })
}

/// Feeds the first `len` bytes of the chunk buffer to the verification in progress.
#[unsafe(no_mangle)]
pub extern "C" fn wh_update(len: usize) -> u32 {
    serial(|| {
        // SAFETY: used within this call only, as is the reference to PENDING.
        match unsafe { (PENDING.get(), prefix(&CHUNK_BUFFER, len)) } {
            (Some(verification), Some(chunk)) => {
                verification.update(chunk);
                status::OK
            }
            _ => status::NOT_STARTED,
        }
    })
}

/// Ends the verification in progress: `index << 8` (the first key that
/// matched) on success, or a status below 256.
#[unsafe(no_mangle)]
pub extern "C" fn wh_finish() -> u32 {
    // SAFETY: the only reference to PENDING, used within this call.
    serial(|| match unsafe { PENDING.get() }.take() {
        #[allow(clippy::cast_possible_truncation)]
        Some(verification) => verification.finish().map_or_else(status_of, |index| (index as u32) << 8),
        None => status::NOT_STARTED,
    })
}

/// Signs with every loaded key: the id is the first `id_len` bytes of the
/// header buffer, the body `body_len` bytes at `body` (the chunk buffer, or
/// a `wh_scratch` region for a larger body). Writes the header to the out
/// buffer and returns `len << 8`, or a status below 256.
///
/// # Safety
/// `body` must be readable for `body_len` bytes and not overlap the out buffer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wh_sign(id_len: usize, timestamp: f64, body: *const u8, body_len: usize) -> u32 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let timestamp = Timestamp::from_unix_secs(timestamp as u64);
    // SAFETY: the caller guarantees the (pointer, length) pair.
    let body = unsafe { crate::bytes(body, body_len) };
    serial(|| {
        end_pending();
        // SAFETY: used within this call only; no verification borrows it now.
        let Some(id) = (unsafe { prefix(&HEADER_BUFFER, id_len) }) else { return status::INVALID_ID };
        let Ok(id) = core::str::from_utf8(id) else { return status::INVALID_ID };
        // SAFETY: used within this call only.
        let Some(keys) = (unsafe { loaded() }) else { return status::NOT_STARTED };
        // SAFETY: the out buffer is written only here, and read by
        // JavaScript between calls.
        let out = unsafe { &mut *OUT_BUFFER.0.get() };
        #[allow(clippy::cast_possible_truncation)]
        match Webhook::sign_header(keys, id, timestamp, body, out) {
            Ok(header) => (header.len() as u32) << 8,
            Err(error) => status_of(error),
        }
    })
}
