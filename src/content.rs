//! The signed content: "`msg_id.timestamp.payload`" (Standard Webhooks,
//! "Signature scheme"). The timestamp is hashed as received, never re-rendered,
//! and the payload as raw bytes, never copied nor checked for UTF-8.

use hmac::Mac;

use crate::key::HmacSha256;

/// Room for `{id}.{timestamp}.` with ids of up to ~100 bytes: one hash update
/// instead of four small ones, which measurably shortens short deliveries.
const PREFIX_CAPACITY: usize = 128;

/// A copy of the pre-keyed `key` that has absorbed `{id}.{timestamp}.`,
/// ready for the payload.
#[inline(always)]
pub(crate) fn hmac_after_prefix(key: &HmacSha256, id: &str, timestamp: &[u8]) -> HmacSha256 {
    let mut mac = key.clone();
    let mut buffer = [0u8; PREFIX_CAPACITY];
    let parts = [id.as_bytes(), b".", timestamp, b"."];
    match join(&parts, &mut buffer) {
        Some(prefix) => mac.update(prefix),
        None => parts.iter().for_each(|part| mac.update(part)),
    }
    mac
}

/// Concatenates `parts` into `buffer`, or `None` if they do not fit.
fn join<'b>(parts: &[&[u8]], buffer: &'b mut [u8]) -> Option<&'b [u8]> {
    let mut len: usize = 0;
    for part in parts {
        let end = len.checked_add(part.len())?;
        buffer.get_mut(len..end)?.copy_from_slice(part);
        len = end;
    }
    buffer.get(..len)
}
