use core::fmt;

use crate::encode;
use crate::key::Key;
use crate::lanes;
use crate::timestamp::MAX_DIGITS;
#[cfg(feature = "ed25519")]
use crate::v1a;
use crate::{Error, Scheme, Timestamp, Webhook, v1};

/// The longest signature entry: `v1a,` and 88 base64 characters of Ed25519.
pub const MAX_SIGNATURE_LEN: usize = 4 + 88;

/// One signature entry, `v1,<base64>`, held in a fixed buffer (no allocation).
///
/// It is what goes into `webhook-signature`; signatures are public, so it
/// prints in full.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature {
    text: [u8; MAX_SIGNATURE_LEN],
    len: usize,
}

impl Signature {
    /// Builds `{label},{base64(raw)}`.
    #[inline(always)]
    pub(crate) fn encode<const N: usize>(scheme: Scheme, raw: &[u8; N]) -> Result<Self, Error> {
        let mut text = [0u8; MAX_SIGNATURE_LEN];
        let label = scheme.label().as_bytes();
        let head_len = label.len().saturating_add(1);
        let (head, rest) = text.split_at_mut_checked(head_len).ok_or(Error::BufferTooSmall)?;
        let (label_slot, comma) = head.split_at_mut(label.len());
        label_slot.copy_from_slice(label);
        comma.fill(b',');
        let encoded_len = encode::encode_padded(raw, rest).ok_or(Error::BufferTooSmall)?;
        let len = head_len.saturating_add(encoded_len);
        Ok(Self { text, len })
    }

    /// The entry as text, e.g. `v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        let bytes = self.text.get(..self.len).unwrap_or_default();
        // Always ASCII (a label, a comma and base64), so this never falls back.
        core::str::from_utf8(bytes).unwrap_or_default()
    }

    /// The signature scheme of this entry.
    #[must_use]
    pub fn scheme(&self) -> Scheme {
        if self.as_str().starts_with("v1a,") { Scheme::V1a } else { Scheme::V1 }
    }
}

impl AsRef<str> for Signature {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Signature").field(&self.as_str()).finish()
    }
}

impl Webhook {
    /// Signs a delivery: the entry for the `webhook-signature` header.
    ///
    /// "The message id … should not contain `.`" and is unique per message
    /// (Standard Webhooks, "Signature scheme"); senders must follow it, so an
    /// empty id, a `.` or an ASCII control character (which cannot travel in an
    /// HTTP header) is refused. The timestamp is rendered in decimal.
    ///
    /// # Errors
    /// [`Error::InvalidId`] for such an id; [`Error::CannotSign`] for a key
    /// that can only verify.
    ///
    /// # Examples
    /// ```
    /// use webhook_signature::{Timestamp, Webhook};
    /// let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
    /// let timestamp = Timestamp::from_unix_secs(1614265330);
    /// let signature = webhook.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp, br#"{"test": 2432232314}"#)?;
    /// assert_eq!(signature.as_str(), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /// # Ok::<(), webhook_signature::Error>(())
    /// ```
    pub fn sign(&self, id: &str, timestamp: Timestamp, payload: &[u8]) -> Result<Signature, Error> {
        if !is_signable_id(id.as_bytes()) {
            return Err(Error::InvalidId);
        }
        let mut digits = [0u8; MAX_DIGITS];
        let timestamp = timestamp.digits(&mut digits);
        match &self.key {
            Key::Hmac(key) => v1::sign(key, id, timestamp, payload),
            #[cfg(feature = "ed25519")]
            Key::Ed25519Secret(key, _) => v1a::sign(key, id, timestamp, payload),
            #[cfg(feature = "ed25519")]
            Key::Ed25519Public(_) => Err(Error::CannotSign),
        }
    }

    /// Signs one delivery with several keys into one `webhook-signature`
    /// value, entries separated by a space (rotation on the sending side),
    /// written into `out`.
    ///
    /// # Errors
    /// As [`sign`](Self::sign), plus [`Error::BufferTooSmall`] if `out`
    /// cannot hold every entry ([`MAX_SIGNATURE_LEN`] + 1 bytes per key is
    /// always enough) and [`Error::InvalidSecret`] for no keys at all.
    ///
    /// # Examples
    /// ```
    /// use webhook_signature::{Headers, Timestamp, Webhook, MAX_SIGNATURE_LEN};
    /// let keys = [Webhook::from_key(b"old key")?, Webhook::from_key(b"new key")?];
    /// let now = Timestamp::from_unix_secs(1700000000);
    /// let mut out = [0u8; 2 * (MAX_SIGNATURE_LEN + 1)];
    /// let header = Webhook::sign_header(&keys, "msg_1", now, b"{}", &mut out)?;
    /// let headers = Headers { id: "msg_1", timestamp: "1700000000", signature: header };
    /// assert_eq!(Webhook::verify_any(&keys[1..], &headers, b"{}", now), Ok(0));
    /// # Ok::<(), webhook_signature::Error>(())
    /// ```
    pub fn sign_header<'o>(
        keys: &[Webhook],
        id: &str,
        timestamp: Timestamp,
        payload: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o str, Error> {
        if keys.is_empty() {
            return Err(Error::InvalidSecret);
        }
        let mut len: usize = 0;
        for key in keys {
            let entry = key.sign(id, timestamp, payload)?;
            let separator: &[u8] = if len == 0 { b"" } else { b" " };
            for part in [separator, entry.as_str().as_bytes()] {
                let end = len.checked_add(part.len()).ok_or(Error::BufferTooSmall)?;
                out.get_mut(len..end).ok_or(Error::BufferTooSmall)?.copy_from_slice(part);
                len = end;
            }
        }
        let written = out.get(..len).unwrap_or_default();
        core::str::from_utf8(written).map_err(|_| Error::BufferTooSmall)
    }
}

/// Whether `id` is non-empty, without a `.` and without an ASCII control
/// character, eight bytes at a time: the byte loop took more instructions
/// than the rest of signing outside the hash (about 280 for a 28-byte id).
#[inline]
fn is_signable_id(id: &[u8]) -> bool {
    let (words, _) = id.as_chunks::<8>();
    // The last eight bytes are one more word, overlapping the words above:
    // flags are OR-ed, so a byte checked twice changes nothing. (Copying the
    // tail into a padded word would be a `memcpy` call.) A shorter id is padded
    // with a byte that passes ('a').
    let last = id.last_chunk::<8>().copied().unwrap_or_else(|| {
        let mut last = [b'a'; 8];
        last.iter_mut().zip(id).for_each(|(slot, &byte)| *slot = byte);
        last
    });
    let mut flagged = 0;
    for word in words.iter().chain([&last]) {
        let word = u64::from_ne_bytes(*word);
        flagged |= lanes::below(word ^ lanes::splat(b'.'), 1)
            | lanes::below(word ^ lanes::splat(0x7f), 1)
            | lanes::below(word, 0x20);
    }
    !id.is_empty() && flagged == 0
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::is_signable_id;

    fn oracle(id: &[u8]) -> bool {
        !id.is_empty() && !id.iter().any(|&b| b == b'.' || b.is_ascii_control())
    }

    /// Every byte value at every position of ids of 1 to 24 bytes.
    #[test]
    fn agrees_with_the_byte_test_at_every_position() {
        for len in 1..=24 {
            for position in 0..len {
                for byte in 0..=255u8 {
                    let mut id = std::vec![b'm'; len];
                    id[position] = byte;
                    assert_eq!(is_signable_id(&id), oracle(&id), "{id:?}");
                }
            }
        }
        assert!(!is_signable_id(b""));
    }

    /// Bad bytes in the same lane of two words, and of three kinds in one
    /// word: flags that would cancel if they were combined with `^`.
    #[test]
    fn flags_in_the_same_lane_do_not_cancel() {
        for (first, second) in [(b'.', b'.'), (b'.', 0x7f), (0x01, b'.'), (0x7f, 0x1f)] {
            for lane in 0..8 {
                let mut id = std::vec![b'm'; 20];
                id[lane] = first;
                id[lane + 8] = second;
                assert!(!is_signable_id(&id), "{id:?}");
            }
        }
        assert!(!is_signable_id(b".\x7f\x01mmmmm"));
    }

    proptest! {
        #[test]
        fn agrees_with_the_byte_test(id in proptest::collection::vec(any::<u8>(), 0..80)) {
            prop_assert_eq!(is_signable_id(&id), oracle(&id));
        }
    }
}
