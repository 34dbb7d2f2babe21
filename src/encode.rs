//! Base64 (RFC 4648, section 4, padded) of a secret-derived value: the tag
//! a signature carries, before it is sent.
//!
//! The tag is secret until it leaves, so the encoding may not index a table
//! with it or branch on it. base64ct guarantees that, and took about 40 ns for
//! a 32-byte tag, a fifth of signing a 64-byte delivery
//! (`cargo bench --bench ratio`, the "sign / HMAC" column). Here eight
//! characters are computed at once in the byte lanes of a `u64` with the same
//! guarantee: shifts, masks, lane-wise compares built from subtraction, and
//! multiplications by constants. base64ct stays the test oracle (below).

use crate::lanes::{TOPS, splat};

/// The padded base64 of `raw`, written to the front of `out`; its length, or
/// `None` if `out` is too short.
#[inline(always)]
pub(crate) fn encode_padded<const N: usize>(raw: &[u8; N], out: &mut [u8]) -> Option<usize> {
    let len = N.div_ceil(3).checked_mul(4)?;
    let out = out.get_mut(..len)?;
    // Six input bytes become eight characters; whole groups first, from
    // fixed-size arrays, so the loop unrolls.
    let (groups, tail) = raw.as_chunks::<6>();
    let (whole, last) = out.split_at_mut_checked(groups.len().checked_mul(8)?)?;
    for (index, (group, chars)) in groups.iter().zip(whole.as_chunks_mut::<8>().0).enumerate() {
        // The eight bytes from the group's start where `raw` has them: one
        // big-endian word whose top 48 bits are the group (for a tag held as
        // words, two words shifted together; six gathered bytes were about
        // twice the instructions). The last whole group may end too near the
        // end for that.
        let start = index.saturating_mul(6);
        let word = raw.get(start..).and_then(<[u8]>::first_chunk::<8>);
        *chars = encode_bits(word.map_or_else(|| gather(group), |&word| u64::from_be_bytes(word)));
    }
    if !tail.is_empty() {
        // Zero-filled; one character per started six bits, then "=".
        let encoded = encode_bits(gather(tail));
        let kept = tail.len().saturating_mul(8).div_ceil(6);
        for (index, (slot, &char)) in last.iter_mut().zip(&encoded).enumerate() {
            *slot = if index < kept { char } else { b'=' };
        }
    }
    Some(len)
}

/// Up to six bytes at the top of a word, zero-filled. Gathered in a register:
/// bytes stored to a buffer and read back as one word stalled on the store
/// (a quarter of the signing time).
#[inline(always)]
fn gather(bytes: &[u8]) -> u64 {
    let bits = bytes.iter().fold(0u64, |bits, &byte| (bits << 8) | u64::from(byte));
    bits << 64usize.saturating_sub(bytes.len().saturating_mul(8))
}

/// The eight characters of the top 48 bits of `bits`.
#[inline(always)]
fn encode_bits(bits: u64) -> [u8; 8] {
    to_ascii(sextets(bits)).to_le_bytes()
}

/// The eight sextets of the top 48 bits of `bits`, one per byte lane, the
/// first in the lowest lane (the first character in memory).
#[inline(always)]
fn sextets(bits: u64) -> u64 {
    // Each 24-bit half into its own 32-bit half: the first at the bottom.
    let halves = ((bits >> 40) & 0xff_ffff) | (((bits >> 16) & 0xff_ffff) << 32);
    // Within each half, sextets 0..4 (from the top) into lanes 0..4.
    ((halves >> 18) & 0x0000_003f_0000_003f)
        | ((halves >> 4) & 0x0000_3f00_0000_3f00)
        | ((halves << 10) & 0x003f_0000_003f_0000)
        | ((halves << 24) & 0x3f00_0000_3f00_0000)
}

/// Maps each lane's sextet to its character: `A`–`Z` from 0, `a`–`z` from
/// 26, `0`–`9` from 52, `+` at 62, `/` at 63, as the sextet plus an offset
/// that changes at each of those boundaries. No lane carries or borrows into
/// the next: every intermediate value stays within 0..=137.
#[inline(always)]
fn to_ascii(sextets: u64) -> u64 {
    // One in each lane whose value is at least `bound` (values are below 128).
    let at_least = |bound: u8| (((sextets | TOPS).wrapping_sub(splat(bound))) & TOPS) >> 7;
    let up = sextets
        .wrapping_add(splat(b'A'))
        .wrapping_add(at_least(26).wrapping_mul(6))
        .wrapping_add(at_least(63).wrapping_mul(3));
    let down = at_least(52).wrapping_mul(75).wrapping_add(at_least(62).wrapping_mul(15));
    up.wrapping_sub(down)
}

#[cfg(test)]
mod tests {
    use base64ct::{Base64, Encoding};
    use proptest::prelude::*;

    use super::{encode_padded, to_ascii};

    fn ours<const N: usize>(raw: &[u8; N]) -> std::string::String {
        let mut out = [0u8; 100];
        let len = encode_padded(raw, &mut out).unwrap();
        std::string::String::from_utf8(out[..len].to_vec()).unwrap()
    }

    /// Every sextet in every lane, against the RFC 4648 alphabet.
    #[test]
    fn maps_every_sextet() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for value in 0..64u8 {
            for lane in 0..8 {
                let mapped = to_ascii(u64::from(value) << (8 * lane)).to_le_bytes();
                assert_eq!(mapped[lane], alphabet[usize::from(value)]);
            }
        }
    }

    /// RFC 4648, section 10, and the lengths around a group's end.
    #[test]
    fn rfc_4648_vectors() {
        assert_eq!(ours(b"f"), "Zg==");
        assert_eq!(ours(b"fo"), "Zm8=");
        assert_eq!(ours(b"foo"), "Zm9v");
        assert_eq!(ours(b"foob"), "Zm9vYg==");
        assert_eq!(ours(b"fooba"), "Zm9vYmE=");
        assert_eq!(ours(b"foobar"), "Zm9vYmFy");
        assert_eq!(ours(b"foobar!"), "Zm9vYmFyIQ==");
    }

    #[test]
    fn refuses_a_short_buffer() {
        assert_eq!(encode_padded(&[0u8; 32], &mut [0u8; 43]), None);
        assert_eq!(encode_padded(&[0u8; 32], &mut [0u8; 44]), Some(44));
    }

    proptest! {
        #[test]
        fn agrees_with_base64ct_on_tags(raw in any::<[u8; 32]>()) {
            prop_assert_eq!(ours(&raw), Base64::encode_string(&raw));
        }

        #[test]
        fn agrees_with_base64ct_on_signatures(raw in proptest::collection::vec(any::<u8>(), 64)) {
            let raw: [u8; 64] = raw.try_into().unwrap();
            prop_assert_eq!(ours(&raw), Base64::encode_string(&raw));
        }

        #[test]
        fn agrees_with_base64ct_on_short_inputs(raw in any::<[u8; 7]>()) {
            prop_assert_eq!(ours(&raw), Base64::encode_string(&raw));
        }
    }
}
