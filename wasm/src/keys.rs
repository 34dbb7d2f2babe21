//! Keys set up once and kept inside the module, for the JavaScript `Webhook`
//! class: a fixed table of [`SLOTS`] keys (the module has no allocator). A
//! `Webhook` with several secrets reserves a run of adjacent slots.
//!
//! wasm32 without threads runs one call at a time, which is what makes the
//! table's interior mutability sound (see [`Shared`]).

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;

use webhook_signature::{Error, HeaderName, Headers, MAX_SIGNATURE_LEN, Timestamp, Webhook};

use crate::{bytes, status, status_of, text};

/// How many keys the module holds at once: 64 covers a few dozen endpoints,
/// each with its current and previous secret.
pub const SLOTS: usize = 64;

struct Table {
    /// Written on first use: a `None` key is not all zero bytes, so a
    /// constant table would put 64 keys' worth of data into the module file.
    keys: MaybeUninit<[Option<Webhook>; SLOTS]>,
    ready: bool,
    reserved: [bool; SLOTS],
}

/// The keys and their reservations, initialized.
struct Keys<'t> {
    keys: &'t mut [Option<Webhook>; SLOTS],
    reserved: &'t mut [bool; SLOTS],
}

/// The table, behind an `UnsafeCell` in a `static`.
struct Shared(UnsafeCell<Table>);

// With the `atomics` target feature, wasm32 has threads sharing this memory,
// and the `Sync` below would be unsound: refuse to build rather than race.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
compile_error!(
    "webhook-signature-wasm keeps its key table in a static that is only sound without threads: \
     build without the `atomics` target feature"
);

// SAFETY: the module is built for wasm32 without threads (the compile_error!
// above refuses the `atomics` feature), and natively only for its
// single-threaded unit tests, so no two calls ever touch the table at the
// same time.
unsafe impl Sync for Shared {}

static TABLE: Shared =
    Shared(UnsafeCell::new(Table { keys: MaybeUninit::uninit(), ready: false, reserved: [false; SLOTS] }));

/// Native builds (the unit tests run on several threads) take a lock, so the
/// single-caller rule behind `Shared` holds there too.
#[cfg(not(target_arch = "wasm32"))]
static NATIVE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Serializes tests that need the whole table to themselves.
#[cfg(test)]
pub(crate) fn tests_lock() -> std::sync::MutexGuard<'static, ()> {
    static WHOLE_TABLE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    WHOLE_TABLE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `f` on the table.
fn with_table<T>(f: impl FnOnce(Keys<'_>) -> T) -> T {
    #[cfg(not(target_arch = "wasm32"))]
    let _native = NATIVE_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // SAFETY: calls into the module never overlap (see `Shared`), and `f`
    // cannot call back into `with_table`, so this is the only reference.
    let table = unsafe { &mut *TABLE.0.get() };
    if !table.ready {
        table.keys.write([const { None }; SLOTS]);
        table.ready = true;
    }
    // SAFETY: written just above on first use, and `ready` says so.
    let keys = unsafe { table.keys.assume_init_mut() };
    f(Keys { keys, reserved: &mut table.reserved })
}

/// Reserves `count` adjacent slots; returns the first, or `usize::MAX` if
/// the table has no such run.
#[unsafe(no_mangle)]
pub extern "C" fn wh_key_reserve(count: usize) -> usize {
    with_table(|table| {
        if count == 0 || count > SLOTS {
            return usize::MAX;
        }
        let free = |first: usize| table.reserved.iter().skip(first).take(count).all(|reserved| !reserved);
        let Some(first) = (0..=SLOTS - count).find(|&first| free(first)) else { return usize::MAX };
        table.reserved.iter_mut().skip(first).take(count).for_each(|reserved| *reserved = true);
        first
    })
}

/// Sets up `secret`, with a tolerance in seconds, in a reserved `slot`.
///
/// # Safety
/// `secret` must be readable for `secret_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wh_key_set(
    slot: usize,
    secret: *const u8,
    secret_len: usize,
    tolerance: u64,
) -> u32 {
    // SAFETY: the caller guarantees the (pointer, length) pair.
    let webhook = match unsafe { text(secret, secret_len, Error::InvalidSecret) }.and_then(Webhook::new) {
        Ok(webhook) => webhook.with_tolerance(core::time::Duration::from_secs(tolerance)),
        Err(error) => return status_of(error),
    };
    with_table(|table| match (table.reserved.get(slot), table.keys.get_mut(slot)) {
        (Some(true), Some(key)) => {
            *key = Some(webhook);
            status::OK
        }
        _ => status::TOO_MANY_KEYS,
    })
}

/// Frees `count` slots from `start`, dropping their keys.
#[unsafe(no_mangle)]
pub extern "C" fn wh_key_free(start: usize, count: usize) {
    with_table(|table| {
        for (key, reserved) in table.keys.iter_mut().zip(table.reserved.iter_mut()).skip(start).take(count) {
            *key = None;
            *reserved = false;
        }
    });
}

/// How many slots are free.
#[unsafe(no_mangle)]
pub extern "C" fn wh_key_free_slots() -> usize {
    with_table(|table| table.reserved.iter().filter(|reserved| !**reserved).count())
}

/// The keys of a run, in order; `None` if a slot of it holds no key.
fn keys<'t>(table: &'t Keys<'_>, start: usize, count: usize) -> Option<impl Iterator<Item = &'t Webhook>> {
    let run = table.keys.get(start..start.checked_add(count)?)?;
    (count > 0 && run.iter().all(Option::is_some)).then(|| run.iter().flatten())
}

/// How telling an error is when several keys fail, as the core ranks them.
fn progress(error: Error) -> u8 {
    match error {
        Error::NoMatchingSignature => 2,
        Error::NoSupportedSignature => 1,
        _ => 0,
    }
}

/// Verifies with the keys of a run, `now` in Unix seconds. Returns `index << 8` (the first key that
/// matched) on success, or a status (below 256) on failure: the most telling
/// error among the keys, as `Webhook::verify_any` reports it.
///
/// # Safety
/// Each (pointer, length) pair must describe readable linear memory, or have length 0.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn wh_key_verify(
    start: usize,
    count: usize,
    id: *const u8,
    id_len: usize,
    timestamp: *const u8,
    timestamp_len: usize,
    signature: *const u8,
    signature_len: usize,
    body: *const u8,
    body_len: usize,
    now: f64,
) -> u32 {
    // `now` comes as a JavaScript number (no BigInt to allocate per call);
    // `as` saturates: negative or NaN is 0, beyond u64 is u64::MAX.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let now = now as u64;
    // SAFETY: the caller guarantees every (pointer, length) pair.
    let inputs = unsafe {
        (
            text(id, id_len, Error::InvalidHeader(HeaderName::Id)),
            text(timestamp, timestamp_len, Error::InvalidHeader(HeaderName::Timestamp)),
            text(signature, signature_len, Error::InvalidHeader(HeaderName::Signature)),
            bytes(body, body_len),
        )
    };
    let headers = match inputs {
        (Ok(id), Ok(timestamp), Ok(signature), _) => Headers { id, timestamp, signature },
        (Err(error), ..) | (_, Err(error), ..) | (_, _, Err(error), _) => return status_of(error),
    };
    with_table(|table| {
        let Some(keys) = keys(&table, start, count) else { return status::TOO_MANY_KEYS };
        let mut failure: Option<Error> = None;
        for (index, key) in (0u32..).zip(keys) {
            match key.verify(&headers, inputs.3, Timestamp::from_unix_secs(now)) {
                Ok(()) => return index << 8,
                Err(error) if failure.is_none_or(|worse| progress(error) > progress(worse)) => {
                    failure = Some(error)
                }
                Err(_) => {}
            }
        }
        failure.map_or(status::UNKNOWN, status_of)
    })
}

/// Signs with every key of a run into one space-separated `webhook-signature`
/// value at `out` (room for `out_cap` bytes), writing its length to `*out_len`.
///
/// # Safety
/// As [`wh_key_verify`]; `out` writable for `out_cap` bytes and `out_len` for
/// a `usize`, neither overlapping the inputs.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn wh_key_sign(
    start: usize,
    count: usize,
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
    let (id, body) = unsafe { (text(id, id_len, Error::InvalidId), bytes(body, body_len)) };
    let id = match id {
        Ok(id) => id,
        Err(error) => return status_of(error),
    };
    // SAFETY: the caller guarantees `out` is writable for `out_cap` bytes.
    let out = unsafe { core::slice::from_raw_parts_mut(out, out_cap) };
    with_table(|table| {
        let Some(keys) = keys(&table, start, count) else { return status::TOO_MANY_KEYS };
        let mut len = 0usize;
        for key in keys {
            let entry = match key.sign(id, Timestamp::from_unix_secs(timestamp), body) {
                Ok(signature) => signature,
                Err(error) => return status_of(error),
            };
            let entry = entry.as_str().as_bytes();
            let separator = usize::from(len > 0);
            let end = len + separator + entry.len();
            let Some(target) = out.get_mut(len..end) else { return status::BUFFER_TOO_SMALL };
            // Zipped copies: the lengths match, and `copy_from_slice`'s check
            // is a panic path whose formatting costs the module 2 KB.
            let target = match target.split_first_mut().filter(|_| separator == 1) {
                Some((space, rest)) => {
                    *space = b' ';
                    rest
                }
                None => target,
            };
            target.iter_mut().zip(entry).for_each(|(to, &from)| *to = from);
            len = end;
        }
        // SAFETY: the caller guarantees `out_len` is writable.
        unsafe { out_len.write(len) };
        status::OK
    })
}

/// Room for the signature header of a full run.
pub const MAX_HEADER_LEN: usize = SLOTS * (MAX_SIGNATURE_LEN + 1);
