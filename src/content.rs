//! The signed content: "`msg_id.timestamp.payload`" (Standard Webhooks,
//! "Signature scheme"). The timestamp is hashed as received, never re-rendered,
//! and the payload as raw bytes, never copied nor checked for UTF-8.

use hmac::Mac;

use crate::key::HmacSha256;

/// A copy of the pre-keyed `key` that has absorbed `{id}.{timestamp}.`,
/// ready for the payload.
pub(crate) fn hmac_after_prefix(key: &HmacSha256, id: &str, timestamp: &[u8]) -> HmacSha256 {
    let mut mac = key.clone();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp);
    mac.update(b".");
    mac
}
